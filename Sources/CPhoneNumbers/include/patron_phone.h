#ifndef PATRON_PHONE_H
#define PATRON_PHONE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Parses `input` (UTF-8, `length` bytes) as a phone number dialled from `default_region`
/// (ISO 3166-1 alpha-2) and, when libphonenumber considers it a valid number, writes its E.164
/// form (NUL-terminated) to `out`. Returns the length written, 0 for a number that is not valid,
/// or -1 when `capacity` is too small. Thread-safe.
int patron_phone_to_e164(const char *input, size_t length, const char *default_region,
                         char *out, size_t capacity);

#ifdef __cplusplus
}
#endif

#endif
