// libssl for the push listener's TLS (RenkeiSystem's TLSContext is the only importer).
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/bio.h>

// SSL_CTX_set_min_proto_version is a macro over SSL_CTX_ctrl (ssl.h), so Swift cannot call it.
// Returns 1 on success.
static inline int renkei_tls_require_tls12(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

// SSL_OP_* are macros built from casts (SSL_OP_BIT), which Swift does not import.
// SSL_CTX_set_options(3): no renegotiation (a client could make the server redo handshakes),
// no TLS compression (CRIME), and the server's cipher order.
static inline void renkei_tls_harden(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
}

static inline int renkei_tls_no_passphrase(char *buf, int size, int rwflag, void *userdata) {
    (void)buf; (void)size; (void)rwflag; (void)userdata;
    return 0;
}

// SSL_CTX_set_default_passwd_cb(3): without a callback OpenSSL would prompt on the terminal for an
// encrypted key's passphrase; a daemon has none, so an encrypted key simply fails to load.
static inline void renkei_tls_refuse_passphrases(SSL_CTX *ctx) {
    SSL_CTX_set_default_passwd_cb(ctx, renkei_tls_no_passphrase);
}

// SSL_CTX_get_min_proto_version is a macro too: the floor set above (0 means no floor).
static inline int renkei_tls_minimum_version(SSL_CTX *ctx) {
    return (int)SSL_CTX_get_min_proto_version(ctx);
}
