// glibc's malloc extensions (malloc_trim), which Swift's Glibc module does not include.
// Part of libc: nothing to link. Used only by RenkeiSystem's ProcessMemory.
#include <malloc.h>
