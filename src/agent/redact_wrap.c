/* redact_wrap.c — see redact_wrap.h. Each scanner returns the length of
 * the shape starting at s[i] (0 if none); a linear pass copies the text and
 * replaces matches. */
#include "redact_wrap.h"

#include <ctype.h>
#include <string.h>

unsigned ta_redact_shape(const char *name) {
    if (!strcmp(name, "email")) return TA_SHAPE_EMAIL;
    if (!strcmp(name, "card")) return TA_SHAPE_CARD;
    if (!strcmp(name, "bearer")) return TA_SHAPE_BEARER;
    if (!strcmp(name, "jwt")) return TA_SHAPE_JWT;
    return 0;
}

static bool local_ch(unsigned char c) { return isalnum(c) || strchr("._%+-", c); }
static bool b64url(unsigned char c) { return isalnum(c) || c == '-' || c == '_' || c == '='; }

static size_t email_at(const char *s, size_t n, size_t i) {
    if (i > 0 && local_ch((unsigned char)s[i - 1])) return 0; /* start of a local part only */
    size_t j = i;
    while (j < n && local_ch((unsigned char)s[j])) j++;
    if (j == i || j >= n || s[j] != '@') return 0;
    size_t k = ++j, dot = 0;
    while (k < n && (isalnum((unsigned char)s[k]) || s[k] == '-' || s[k] == '.')) {
        if (s[k] == '.') dot = k;
        k++;
    }
    while (k > j && s[k - 1] == '.') k--;
    return dot > j && dot + 2 <= k ? k - i : 0;
}

static size_t card_at(const char *s, size_t n, size_t i) {
    if (i > 0 && isdigit((unsigned char)s[i - 1])) return 0;
    int digits[19], nd = 0;
    size_t j = i, last = i;
    while (j < n && nd < 19 && (isdigit((unsigned char)s[j]) || ((s[j] == ' ' || s[j] == '-') && nd))) {
        if (isdigit((unsigned char)s[j])) {
            digits[nd++] = s[j] - '0';
            last = j + 1;
        }
        j++;
    }
    if (nd < 13 || (last < n && isdigit((unsigned char)s[last]))) return 0;
    int sum = 0;
    for (int k = 0; k < nd; k++) {
        int d = digits[nd - 1 - k];
        if (k & 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
    }
    return sum % 10 == 0 ? last - i : 0;
}

static size_t bearer_at(const char *s, size_t n, size_t i) {
    if (n - i < 8 || strncasecmp(s + i, "bearer ", 7) != 0) return 0;
    size_t j = i + 7;
    while (j < n && (b64url((unsigned char)s[j]) || s[j] == '.' || s[j] == '~' || s[j] == '+' || s[j] == '/')) j++;
    return j - (i + 7) >= 8 ? j - i : 0;
}

static size_t jwt_at(const char *s, size_t n, size_t i) {
    if (n - i < 10 || memcmp(s + i, "eyJ", 3) != 0 || (i > 0 && b64url((unsigned char)s[i - 1]))) return 0;
    size_t j = i, dots = 0;
    while (j < n && (b64url((unsigned char)s[j]) || s[j] == '.')) dots += s[j++] == '.';
    return dots == 2 ? j - i : 0;
}

bool ta_redact_text(unsigned shapes, const char *repl, const char *s, size_t n, ta_arena *a, const char **out,
                    size_t *outn) {
    ta_buf b = {0};
    size_t copied = 0;
    bool any = false;
    for (size_t i = 0; i < n;) {
        size_t m = 0;
        if (!m && (shapes & TA_SHAPE_JWT) && s[i] == 'e') m = jwt_at(s, n, i);
        if (!m && (shapes & TA_SHAPE_BEARER) && (s[i] == 'B' || s[i] == 'b')) m = bearer_at(s, n, i);
        if (!m && (shapes & TA_SHAPE_CARD) && isdigit((unsigned char)s[i])) m = card_at(s, n, i);
        if (!m && (shapes & TA_SHAPE_EMAIL) && local_ch((unsigned char)s[i])) m = email_at(s, n, i);
        if (!m) {
            i++;
            continue;
        }
        any = true;
        ta_buf_put(&b, s + copied, i - copied);
        ta_buf_put(&b, repl, strlen(repl));
        i += m;
        copied = i;
    }
    if (!any) return false;
    ta_buf_put(&b, s + copied, n - copied);
    *out = ta_arena_strndup(a, b.p, b.len);
    *outn = b.len;
    ta_buf_free(&b);
    return true;
}
