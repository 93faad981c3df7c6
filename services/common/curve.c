/* curve.c: CURVE key pairs and certificate files. */
#include "curve.h"
#include "errors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

int curve_new(curve_cert_t *cert)
{
    memset(cert, 0, sizeof *cert);
    return zmq_curve_keypair(cert->public_key, cert->secret_key) == 0 ? RC_OK : RC_ERR_IO;
}

bool curve_key_valid(const char *text)
{
    uint8_t raw[32];
    return text && strlen(text) == CURVE_KEY_TEXT - 1 && zmq_z85_decode(raw, text) != NULL;
}

void curve_path(char *path, size_t len, const char *dir, const char *name, bool secret)
{
    snprintf(path, len, "%s/%s.key%s", dir, name, secret ? "_secret" : "");
}

/* A metadata value as ZPL quotes it: no quote, newline or control byte. */
static void s_write_value(FILE *f, const char *v)
{
    fputc('"', f);
    for (; *v; v++)
        if (*v != '"' && (unsigned char)*v >= 0x20)
            fputc(*v, f);
    fputc('"', f);
}

int curve_save(const curve_cert_t *cert, const char *path, bool with_secret,
               const char *const *meta, char *err, size_t errlen)
{
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (with_secret ? O_EXCL : O_TRUNC);
    int fd = open(path, flags, with_secret ? 0600 : 0644);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return RC_ERR_IO;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return RC_ERR_IO;
    }
    char day[16];
    time_t now = time(NULL);
    struct tm tm;
    strftime(day, sizeof day, "%Y-%m-%d", gmtime_r(&now, &tm));
    fprintf(f, "#   ****  Generated on %s by rectifyctl  ****\n", day);
    if (with_secret)
        fputs("#   ZeroMQ CURVE **Secret** Certificate\n"
              "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n",
              f);
    else
        fputs("#   ZeroMQ CURVE Public Certificate\n"
              "#   Exchange securely, or use a secure mechanism to verify the contents\n"
              "#   of this file after exchange. Store public certificates in your home\n"
              "#   directory, in the .curve subdirectory.\n",
              f);
    fputs("\nmetadata\n", f);
    for (const char *const *m = meta; m && m[0] && m[1]; m += 2) {
        fprintf(f, "    %s = ", m[0]);
        s_write_value(f, m[1]);
        fputc('\n', f);
    }
    fprintf(f, "curve\n    public-key = \"%s\"\n", cert->public_key);
    if (with_secret)
        fprintf(f, "    secret-key = \"%s\"\n", cert->secret_key);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return RC_ERR_IO;
    }
    return RC_OK;
}

/* Reads `    name = "value"` into out when the line is that setting. */
static bool s_setting(const char *line, const char *name, char *out, size_t outlen)
{
    while (*line == ' ' || *line == '\t')
        line++;
    size_t n = strlen(name);
    if (strncmp(line, name, n) != 0)
        return false;
    line += n;
    while (*line == ' ' || *line == '\t')
        line++;
    if (*line++ != '=')
        return false;
    while (*line == ' ' || *line == '\t')
        line++;
    char quote = (*line == '"' || *line == '\'') ? *line++ : 0;
    size_t len = 0;
    while (line[len] && line[len] != '\n' && line[len] != '\r' &&
           (quote ? line[len] != quote : line[len] != ' '))
        len++;
    if (len >= outlen)
        return false;
    memcpy(out, line, len);
    out[len] = '\0';
    return true;
}

int curve_load(const char *path, curve_cert_t *cert, char *err, size_t errlen)
{
    memset(cert, 0, sizeof *cert);
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return RC_ERR_IO;
    }
    struct stat st;
    bool open_to_others = fstat(fileno(f), &st) == 0 && (st.st_mode & 0077);
    char line[512];
    bool in_curve = false, in_meta = false;
    while (fgets(line, sizeof line, f)) {
        if (line[0] != ' ' && line[0] != '\t' && line[0] != '#' && line[0] != '\n') {
            in_curve = strncmp(line, "curve", 5) == 0;
            in_meta = strncmp(line, "metadata", 8) == 0;
        } else if (in_meta) {
            s_setting(line, "unit", cert->unit, sizeof cert->unit);
        } else if (in_curve) {
            s_setting(line, "public-key", cert->public_key, sizeof cert->public_key);
            s_setting(line, "secret-key", cert->secret_key, sizeof cert->secret_key);
        }
    }
    fclose(f);
    if (!curve_key_valid(cert->public_key)) {
        snprintf(err, errlen, "%s: no valid public-key (40 Z85 characters) in its curve section",
                 path);
        return RC_ERR_INVALID;
    }
    if (cert->secret_key[0] && !curve_key_valid(cert->secret_key)) {
        snprintf(err, errlen, "%s: the secret-key is not 40 Z85 characters", path);
        return RC_ERR_INVALID;
    }
    if (cert->secret_key[0] && open_to_others) {
        memset(cert->secret_key, 0, sizeof cert->secret_key);
        snprintf(err, errlen, "%s: a secret certificate must be readable by its owner only "
                 "(chmod 600)", path);
        return RC_ERR_INVALID;
    }
    return RC_OK;
}

int curve_load_secret(const char *path, curve_cert_t *cert, char *err, size_t errlen)
{
    int rc = curve_load(path, cert, err, errlen);
    if (rc == RC_OK && !cert->secret_key[0]) {
        snprintf(err, errlen, "%s: holds no secret-key (the .key_secret file is needed)", path);
        rc = RC_ERR_INVALID;
    }
    return rc;
}

int curve_peer_key(const char *dir, const char *name, char *public_key, char *err, size_t errlen)
{
    char path[600];
    curve_path(path, sizeof path, dir, name, false);
    curve_cert_t cert;
    int rc = curve_load(path, &cert, err, errlen);
    if (rc == RC_OK)
        memcpy(public_key, cert.public_key, CURVE_KEY_TEXT);
    return rc;
}
