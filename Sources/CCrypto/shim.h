#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

/* Issue 16: the row digests of a snapshot file, SHA-256 of one fixed prefix (the mapping's digest)
   followed by each row. The prefix is hashed once and its state copied per row; the low-level
   SHA256_* calls keep that state on the stack, where EVP allocates a provider context per digest
   (OpenSSL 3.0: three times slower on a million 100-byte rows). They are deprecated in OpenSSL 3 in
   favour of EVP but still part of libcrypto: https://www.openssl.org/docs/man3.0/man3/SHA256_Init.html */
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
static inline void renkei_sha256_start(SHA256_CTX *state, const void *prefix, size_t count) {
    SHA256_Init(state);
    SHA256_Update(state, prefix, count);
}
static inline void renkei_sha256_finish(const SHA256_CTX *state, const void *data, size_t count, unsigned char *out) {
    SHA256_CTX copy = *state;
    SHA256_Update(&copy, data, count);
    SHA256_Final(out, &copy);
}
#pragma clang diagnostic pop
