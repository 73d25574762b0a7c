#ifndef PATRON_CPATRONSHIMS_H
#define PATRON_CPATRONSHIMS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Sends one sd_notify datagram (e.g. "READY=1\nSTATUS=...") to the AF_UNIX socket named by
 * `socket_path` (a path, or "@name" for the abstract namespace).
 * Why C: building a sockaddr_un with an abstract name and an exact length is a struct and
 * length dance that is plain in C and error-prone through Swift pointers. libsystemd's own
 * sd_notify would work too, but would pull libsystemd into every build for ~40 lines.
 * Returns 0, or -errno.
 */
int patron_notify_send(const char *socket_path, const char *message, size_t length);

/*
 * The CLOCK_MONOTONIC time in microseconds, as systemd expects in MONOTONIC_USEC= on reload.
 */
uint64_t patron_monotonic_usec(void);

/*
 * An eventfd used to wake a connection thread that is blocked in poll(2) on its socket.
 * Why C: eventfd and poll with two descriptors need no shim, but grouping them keeps the
 * connection thread's blocking point in one audited place.
 * patron_wakeup_wait returns 1 if `socket_fd` is readable (or has an error), 0 on timeout or
 * wake-up, -errno on failure. It drains the eventfd.
 */
int patron_wakeup_create(void);
int patron_wakeup_signal(int wake_fd);
int patron_wakeup_wait(int wake_fd, int socket_fd, int timeout_ms);

/*
 * HMAC-SHA256 of `data` under `key`, written to `out` (32 bytes): the keyed hashes that are all
 * Patron keeps of an erased identity. Why C: OpenSSL's one-shot HMAC() is one call here, and
 * OpenSSL is already linked for TLS. Returns 0, or -1 on failure.
 */
int patron_hmac_sha256(const uint8_t *key, size_t key_length, const uint8_t *data, size_t length, uint8_t out[32]);

/*
 * SHA-256 over data given in parts: an export file's digest computed as it is written, for the
 * export log and export.completed. Why C: OpenSSL's EVP digest calls, already linked; the
 * context stays opaque to Swift. patron_sha256_begin returns NULL on failure; finish writes 32
 * bytes to `out`, frees the context and returns 0, or -1 on failure; discard only frees it.
 */
void *patron_sha256_begin(void);
int patron_sha256_update(void *context, const uint8_t *data, size_t length);
int patron_sha256_finish(void *context, uint8_t out[32]);
void patron_sha256_discard(void *context);

#endif
