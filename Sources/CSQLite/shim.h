#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro over a cast function pointer that Swift cannot import.
/// https://www.sqlite.org/c3ref/c_static.html
static inline sqlite3_destructor_type renkei_sqlite_transient(void) {
    return SQLITE_TRANSIENT;
}
