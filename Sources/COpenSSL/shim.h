// OpenSSL 3 (Debian package libssl-dev): digests, HMAC and PBKDF2 for authentication, TLS for secure ports.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/crypto.h>
#include <string.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>

// Macros Swift cannot import (SSL_*_ctrl wrappers and 64-bit option bits), as functions.
static inline int coordkafka_ssl_ctx_set_proto_range(SSL_CTX *ctx, int min, int max) {
    return SSL_CTX_set_min_proto_version(ctx, min) == 1 && SSL_CTX_set_max_proto_version(ctx, max) == 1;
}
static inline void coordkafka_ssl_ctx_set_defaults(SSL_CTX *ctx) {
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // A peer that closes without close_notify is an ordinary close, not an error to log.
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
}
static inline int coordkafka_ssl_set_sni(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}
static inline int coordkafka_ssl_is_tls13_cipher_name(const char *name) {
    return strncmp(name, "TLS_AES_", 8) == 0 || strncmp(name, "TLS_CHACHA20_", 13) == 0;
}
static inline int coordkafka_ssl_cipher_count(const SSL *ssl) {
    STACK_OF(SSL_CIPHER) *list = SSL_get_ciphers(ssl);
    return list == NULL ? 0 : sk_SSL_CIPHER_num(list);
}
static inline const SSL_CIPHER *coordkafka_ssl_cipher_at(const SSL *ssl, int i) {
    return sk_SSL_CIPHER_value(SSL_get_ciphers(ssl), i);
}
