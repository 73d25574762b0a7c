#include "CPatronShims.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int patron_notify_send(const char *socket_path, const char *message, size_t length) {
    struct sockaddr_un address;
    size_t path_length = strlen(socket_path);
    if (path_length == 0 || path_length >= sizeof(address.sun_path)) {
        return -EINVAL;
    }
    if (socket_path[0] != '/' && socket_path[0] != '@') {
        return -EAFNOSUPPORT;
    }
    memset(&address, 0, sizeof(address));
    address.sun_family = AF_UNIX;
    memcpy(address.sun_path, socket_path, path_length);
    if (address.sun_path[0] == '@') {
        address.sun_path[0] = '\0';
    }
    socklen_t address_length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_length);
    if (socket_path[0] == '/') {
        address_length += 1; /* include the terminating NUL of a filesystem path */
    }

    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    ssize_t sent;
    do {
        sent = sendto(fd, message, length, MSG_NOSIGNAL, (struct sockaddr *)&address, address_length);
    } while (sent < 0 && errno == EINTR);
    int result = sent < 0 ? -errno : 0;
    close(fd);
    return result;
}

uint64_t patron_monotonic_usec(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
}

int patron_wakeup_create(void) {
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    return fd < 0 ? -errno : fd;
}

int patron_wakeup_signal(int wake_fd) {
    uint64_t one = 1;
    ssize_t written;
    do {
        written = write(wake_fd, &one, sizeof(one));
    } while (written < 0 && errno == EINTR);
    /* EAGAIN means the counter is saturated: a wake-up is already pending. */
    return (written < 0 && errno != EAGAIN) ? -errno : 0;
}

int patron_wakeup_wait(int wake_fd, int socket_fd, int timeout_ms) {
    struct pollfd fds[2];
    nfds_t count = 1;
    fds[0].fd = wake_fd;
    fds[0].events = POLLIN;
    fds[0].revents = 0;
    if (socket_fd >= 0) {
        fds[1].fd = socket_fd;
        fds[1].events = POLLIN;
        fds[1].revents = 0;
        count = 2;
    }
    int ready = poll(fds, count, timeout_ms);
    if (ready < 0) {
        return errno == EINTR ? 0 : -errno;
    }
    if (fds[0].revents & POLLIN) {
        uint64_t drained;
        while (read(wake_fd, &drained, sizeof(drained)) > 0) {
        }
    }
    if (count == 2 && (fds[1].revents & (POLLIN | POLLERR | POLLHUP))) {
        return 1;
    }
    return 0;
}

#include <openssl/evp.h>
#include <openssl/hmac.h>

int patron_hmac_sha256(const uint8_t *key, size_t key_length, const uint8_t *data, size_t length, uint8_t out[32]) {
    unsigned int written = 0;
    if (HMAC(EVP_sha256(), key, (int)key_length, data, length, out, &written) == NULL || written != 32) {
        return -1;
    }
    return 0;
}

#include <openssl/evp.h>

void *patron_sha256_begin(void) {
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    if (context == NULL) {
        return NULL;
    }
    if (EVP_DigestInit_ex(context, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(context);
        return NULL;
    }
    return context;
}

int patron_sha256_update(void *context, const uint8_t *data, size_t length) {
    return EVP_DigestUpdate((EVP_MD_CTX *)context, data, length) == 1 ? 0 : -1;
}

int patron_sha256_finish(void *context, uint8_t out[32]) {
    unsigned int written = 0;
    int status = EVP_DigestFinal_ex((EVP_MD_CTX *)context, out, &written) == 1 && written == 32 ? 0 : -1;
    EVP_MD_CTX_free((EVP_MD_CTX *)context);
    return status;
}

void patron_sha256_discard(void *context) {
    EVP_MD_CTX_free((EVP_MD_CTX *)context);
}
