// The one C entry point Swift needs from libphonenumber's C++ API.
#include "patron_phone.h"

#include <cstring>
#include <string>

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

extern "C" int patron_phone_to_e164(const char *input, size_t length, const char *default_region,
                                    char *out, size_t capacity) {
    const PhoneNumberUtil *util = PhoneNumberUtil::GetInstance();
    PhoneNumber number;
    if (util->Parse(std::string(input, length), std::string(default_region), &number) !=
        PhoneNumberUtil::NO_PARSING_ERROR) {
        return 0;
    }
    if (!util->IsValidNumber(number)) {
        return 0;
    }
    std::string formatted;
    util->Format(number, PhoneNumberUtil::E164, &formatted);
    if (formatted.size() + 1 > capacity) {
        return -1;
    }
    std::memcpy(out, formatted.c_str(), formatted.size() + 1);
    return static_cast<int>(formatted.size());
}
