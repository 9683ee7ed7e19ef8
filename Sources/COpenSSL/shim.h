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
#include <openssl/pkcs12.h>
// The peer certificate's subject in RFC 2253 form (most specific RDN first, UTF-8 kept as is, as Java
// prints it); the length written, 0 without a peer certificate, -1 when it does not fit.
static inline int coordkafka_ssl_peer_subject_rfc2253(SSL *ssl, char *buf, int len) {
    X509 *cert = SSL_get1_peer_certificate(ssl);
    if (cert == NULL) return 0;
    BIO *bio = BIO_new(BIO_s_mem());
    int n = -1;
    if (bio != NULL && X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
        char *data = NULL;
        long size = BIO_get_mem_data(bio, &data);
        if (size >= 0 && size < len) { memcpy(buf, data, (size_t)size); n = (int)size; }
    }
    BIO_free(bio);
    X509_free(cert);
    return n;
}
static inline long coordkafka_ssl_ctx_add_extra_chain_cert(SSL_CTX *ctx, X509 *cert) {
    return SSL_CTX_add_extra_chain_cert(ctx, cert);
}
static inline int coordkafka_x509_stack_count(STACK_OF(X509) *s) { return s == NULL ? 0 : sk_X509_num(s); }
static inline X509 *coordkafka_x509_stack_at(STACK_OF(X509) *s, int i) { return sk_X509_value(s, i); }
static inline void coordkafka_x509_stack_free(STACK_OF(X509) *s) { sk_X509_pop_free(s, X509_free); }

// Processes exit with threads still holding TLS sessions (a client's reader thread); OpenSSL's
// atexit cleanup would free state under them (a double free in kafkactl). Called before any other
// OpenSSL use, this keeps OpenSSL from registering that cleanup; the OS frees everything at exit.
static inline void coordkafka_openssl_init(void) {
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
    OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL);
}
