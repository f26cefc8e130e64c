/* passwords.c — password policy, the common-password list, argon2id.
 *
 * The list holds the most frequent passwords of public breach corpora that
 * are long enough to pass the length rule (shorter ones are refused by
 * length already); it is checked case-insensitively. */
#include "passwords.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "err.h"

static const char *const common[] = {
    "1234567890",   "12345678910",   "123456789a",       "1234567890a",  "0123456789",
    "1q2w3e4r5t",   "1qaz2wsx3edc",  "qwertyuiop",       "qwerty1234",   "qwerty12345",
    "qwerty123456", "password1",     "password12",       "password123",  "password1234",
    "password!",    "password123!",  "passw0rd123",      "p@ssw0rd123",  "iloveyou123",
    "iloveyou12",   "football123",   "baseball123",      "princess123",  "sunshine123",
    "welcome123",   "welcome1234",   "letmein123",       "letmein1234",  "monkey1234",
    "dragon1234",   "master1234",    "superman123",      "trustno1234",  "starwars123",
    "whatever123",  "1111111111",    "0000000000",       "9876543210",   "987654321a",
    "abcdefghij",   "abc1234567",    "abcd123456",       "a123456789",   "aa12345678",
    "asdfghjkl1",   "asdfghjkl;",    "zxcvbnm123",       "qazwsxedc123", "q1w2e3r4t5",
    "q1w2e3r4t5y6", "administrator", "admin12345",       "admin123456",  "changeme123",
    "changeme1234", "secret1234",    "qwertyuiop123",    "michael123",   "jennifer123",
    "computer123",  "internet123",   "samsung123",       "pokemon123",   "liverpool1",
    "chocolate1",   "butterfly1",    "basketball",       "basketball1",  "football1",
    "1password1",   "password01",    "passwordpassword", "letmeinnow",   "iloveyou1",
    "mypassword",   "mypassword1",   "bizosaas123",
};

bool pw_is_common(const char *pw)
{
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        if (strcasecmp(common[i], pw) == 0) return true;
    return false;
}

const char *pw_policy_invalid(const char *pw, const char *email)
{
    size_t n = strlen(pw);
    if (n < PW_MIN_LEN) return "password must be at least 10 characters";
    if (n > PW_MAX_LEN) return "password must be at most 128 characters";
    if (pw_is_common(pw)) return "password is too common; choose another";
    if (email) {
        const char *at = strchr(email, '@');
        size_t local = at ? (size_t)(at - email) : strlen(email);
        if (strcasecmp(pw, email) == 0 || (local == n && strncasecmp(pw, email, n) == 0))
            return "password must not be the e-mail address";
    }
    return NULL;
}

int pw_hash(const char *pw, char out[PW_HASH_MAX])
{
    _Static_assert(PW_HASH_MAX >= crypto_pwhash_STRBYTES, "PW_HASH_MAX too small");
    if (crypto_pwhash_str_alg(out, pw, strlen(pw), PW_OPSLIMIT, PW_MEMLIMIT,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return ERR_INTERNAL;
    return 0;
}

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[PW_HASH_MAX];

static void make_dummy(void)
{
    char pw[21];
    pw_generate(pw);
    if (pw_hash(pw, dummy_hash) != 0) dummy_hash[0] = '\0';
}

bool pw_verify(const char *hash, const char *pw)
{
    if (!hash || !*hash) {
        pthread_once(&dummy_once, make_dummy);
        if (dummy_hash[0] && crypto_pwhash_str_verify(dummy_hash, pw, strlen(pw)) == 0) {
            /* cannot match: the dummy password was random and forgotten */
        }
        return false;
    }
    return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

bool pw_needs_rehash(const char *hash)
{
    return crypto_pwhash_str_needs_rehash(hash, PW_OPSLIMIT, PW_MEMLIMIT) != 0;
}

void pw_generate(char out[21])
{
    static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    for (int i = 0; i < 20; i++)
        out[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
    out[20] = '\0';
}
