/* rectify-tail: follows the live log streams of all three services at once.
 *
 *   rectify-tail [--config FILE] [--level L] [--service S] [--unit U]
 *                [--event ID] [--json] [--count N] [--timeout-ms N]
 *                [--remember N] [ENDPOINT...]
 *
 * Without endpoints it subscribes to intake_log_pub, workflow_log_pub and
 * notify_log_pub of the configuration. With CURVE (allow_plain=false) it
 * needs an on-call key (key_file, made by rectifyctl key new --oncall) and
 * the services' public keys (keys_dir); an endpoint given on the command
 * line is then SERVICE=ENDPOINT, naming whose key to pin. Errors stand out (red on a terminal).
 *
 * Nothing is dropped silently: a line that is not a JSON object in UTF-8 is
 * shown marked [unparsed] (as JSON: wrapped in a warn line of its own, field
 * "line") and counted on stderr at the end. The log channel delivers a
 * notice at least once; its lines ("channel":"log") carry the notice id, and
 * one whose id is among the last --remember ids shown is not shown again. */
#include "bus.h"
#include "errors.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "seen.h"
#include "text.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_ENDPOINTS 16
#define REMEMBER_DEFAULT 65536 /* notice ids, ~1.5 MB */

typedef struct {
    log_level_t min_level;
    const char *service, *unit, *event_id;
    int as_json;
    long count;      /* stop after this many lines shown; 0 = never */
    long timeout_ms; /* stop after this long; 0 = never */
    long remember;   /* notice ids kept to show each notice once; 0 = show repeats */
    int color;
    seen_t *seen;           /* the notice ids shown last */
    long unparsed, repeats; /* lines shown marked, notice lines not shown again */
} s_tail_t;

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: rectify-tail [--config FILE] [--level debug|info|warn|error]\n"
            "                    [--service NAME] [--unit CODE] [--event ID] [--json]\n"
            "                    [--count N] [--timeout-ms N] [--remember N] [ENDPOINT...]\n\n"
            "Follows the services' live logs; without endpoints, those of the config.\n"
            "A notice of the log channel is shown once (the last --remember notice ids,\n"
            "default %d, are kept); a line that cannot be parsed is shown marked.\n"
            "With CURVE it needs an on-call key (key_file; rectifyctl key new --oncall)\n"
            "and an ENDPOINT is SERVICE=ENDPOINT (intake=, workflow=, notify=).\n",
            REMEMBER_DEFAULT);
}

static const char *s_get(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* Shows a line that is not a JSON object in UTF-8, marked, as valid text. */
static void s_show_unparsed(s_tail_t *f, const char *line, size_t len)
{
    f->unparsed++;
    char *raw = malloc(len + 1), *shown = malloc(len + 1);
    if (!raw || !shown) {
        fprintf(stderr, "rectify-tail: out of memory for a line that could not be parsed\n");
        goto out_free;
    }
    /* a C string: NUL bytes, and on a terminal every control byte, as '?' */
    for (size_t i = 0; i < len; i++)
        raw[i] = line[i] == '\0' || (!f->as_json && (unsigned char)line[i] < 0x20) ? '?' : line[i];
    raw[len] = '\0';
    if (f->as_json) {
        char out[LOG_LINE_MAX];
        log_field_t field = LF_STR("line", raw);
        log_format(out, sizeof out, clock_now_ms(), LOG_WARN, "rectify-tail", NULL, NULL, &field, 1,
                   "a line that could not be parsed");
        puts(out);
    } else {
        text_cut(shown, len + 1, raw); /* invalid bytes as '?': never longer */
        printf("%s[unparsed] %s%s\n", f->color ? "\033[33m" : "", shown, f->color ? "\033[0m" : "");
    }
    fflush(stdout);
out_free:
    free(raw);
    free(shown);
}

/* A notice line of the log channel whose notice id was shown already. */
static int s_is_repeat(s_tail_t *f, json_t *o)
{
    return f->seen && !strcmp(s_get(o, "channel"), "log") &&
           seen_check(f->seen, s_get(o, "notice_id"));
}

/* Returns 1 when the line was shown (an unparsed line is not counted). */
static int s_show(s_tail_t *f, const char *line, size_t len)
{
    json_error_t jerr;
    json_t *o = json_loadb(line, len, 0, &jerr);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        s_show_unparsed(f, line, len);
        return 0;
    }
    const char *level = s_get(o, "level");
    int shown = 0;
    if (log_level_from_name(level) < f->min_level ||
        (f->service && strcmp(f->service, s_get(o, "service"))) ||
        (f->unit && strcmp(f->unit, s_get(o, "unit"))) ||
        (f->event_id && strcmp(f->event_id, s_get(o, "event_id"))))
        goto out_free;
    if (s_is_repeat(f, o)) {
        f->repeats++;
        goto out_free;
    }
    shown = 1;
    if (f->as_json) {
        fwrite(line, 1, len, stdout);
        fputc('\n', stdout);
        goto out_flush;
    }
    const char *msg = s_get(o, "msg");
    int alarm = !strcmp(level, "error") || strstr(msg, "red card") || strstr(msg, "dead letter");
    const char *on = f->color ? (alarm                    ? "\033[1;31m"
                                 : !strcmp(level, "warn") ? "\033[33m"
                                                          : "")
                              : "";
    const char *off = f->color && *on ? "\033[0m" : "";
    const char *ts = s_get(o, "ts");
    printf("%s%s %-5s %-8s", on, strlen(ts) > 11 ? ts + 11 : ts, level, s_get(o, "service"));
    if (*s_get(o, "unit"))
        printf(" [%s]", s_get(o, "unit"));
    if (*s_get(o, "event_id"))
        printf(" %.8s", s_get(o, "event_id"));
    printf(" %s", msg);
    const char *key;
    json_t *value;
    json_object_foreach(o, key, value)
    {
        static const char *known[] = {"ts", "level", "service", "unit", "event_id", "msg", NULL};
        int skip = 0;
        for (int i = 0; known[i]; i++)
            skip |= !strcmp(key, known[i]);
        if (skip)
            continue;
        if (json_is_string(value))
            printf(" %s=%s", key, json_string_value(value));
        else if (json_is_integer(value))
            printf(" %s=%" JSON_INTEGER_FORMAT, key, json_integer_value(value));
        else if (json_is_true(value))
            printf(" %s=true", key);
    }
    printf("%s\n", off);
out_flush:
    fflush(stdout);
out_free:
    json_decref(o);
    return shown;
}

int main(int argc, char **argv)
{
    s_tail_t f = {
        .min_level = LOG_DEBUG, .remember = REMEMBER_DEFAULT, .color = isatty(STDOUT_FILENO)};
    const char *file = NULL, *endpoints[MAX_ENDPOINTS];
    int nend = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--help")) {
            s_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--config") && has)
            file = argv[++i];
        else if (!strcmp(a, "--level") && has) {
            const char *l = argv[++i];
            if (strcmp(l, "debug") && strcmp(l, "info") && strcmp(l, "warn") &&
                strcmp(l, "error")) {
                fprintf(stderr, "rectify-tail: --level: \"%s\" is not debug, info, warn or error\n",
                        l);
                return 2;
            }
            f.min_level = log_level_from_name(l);
        } else if (!strcmp(a, "--service") && has)
            f.service = argv[++i];
        else if (!strcmp(a, "--unit") && has)
            f.unit = argv[++i];
        else if (!strcmp(a, "--event") && has)
            f.event_id = argv[++i];
        else if (!strcmp(a, "--json"))
            f.as_json = 1;
        else if ((!strcmp(a, "--count") || !strcmp(a, "--timeout-ms") ||
                  !strcmp(a, "--remember")) &&
                 has) {
            char *end = NULL;
            errno = 0;
            long v = strtol(argv[++i], &end, 10);
            if (errno || !end || *end || v < 0) {
                fprintf(stderr, "rectify-tail: %s: \"%s\" is not a whole number\n", a, argv[i]);
                return 2;
            }
            if (!strcmp(a, "--count"))
                f.count = v;
            else if (!strcmp(a, "--remember"))
                f.remember = v;
            else
                f.timeout_ms = v;
        } else if (a[0] != '-' && nend < MAX_ENDPOINTS)
            endpoints[nend++] = a;
        else {
            fprintf(stderr, "rectify-tail: unknown argument \"%s\" (try --help)\n", a);
            return 2;
        }
    }
    if (f.remember > 0 && !(f.seen = seen_new((size_t)f.remember))) {
        fprintf(stderr, "rectify-tail: --remember %ld: out of memory\n", f.remember);
        return 2;
    }
    char err[512];
    config_t *cfg = config_load(file, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "rectify-tail: config: %s\n", err);
        seen_destroy(&f.seen);
        return 2;
    }
    static const char *const names[] = {"intake", "workflow", "notify"};
    const char *server[MAX_ENDPOINTS] = {0}; /* the service each endpoint is, with CURVE */
    if (nend == 0) {
        static const cfg_key_t keys[] = {SET_intake_log_pub, SET_workflow_log_pub,
                                         SET_notify_log_pub};
        for (int k = 0; k < 3; k++)
            if (*config_str(cfg, keys[k])) {
                server[nend] = names[k];
                endpoints[nend++] = config_str(cfg, keys[k]);
            }
    } else {
        for (int k = 0; k < nend; k++) /* SERVICE=ENDPOINT names whose key to pin */
            for (int n = 0; n < 3; n++) {
                size_t len = strlen(names[n]);
                if (!strncmp(endpoints[k], names[n], len) && endpoints[k][len] == '=') {
                    server[k] = names[n];
                    endpoints[k] += len + 1;
                }
            }
    }
    /* with CURVE, an on-call key (rectifyctl key new --oncall) and each
     * service's public key; the streams refuse any other key */
    bool curve = !config_bool(cfg, SET_allow_plain);
    curve_cert_t mine;
    int status = 2;
    void *ctx = zmq_ctx_new();
    void *sub[MAX_ENDPOINTS] = {0};
    if (curve && curve_load_secret(config_str(cfg, SET_key_file), &mine, err, sizeof err) != RC_OK) {
        fprintf(stderr, "rectify-tail: key_file (an on-call key, RECTIFY_KEY_FILE): %s\n",
                *config_str(cfg, SET_key_file) ? err : "not set");
        goto out;
    }
    for (int k = 0; k < nend; k++) {
        sub[k] = bus_socket(ctx, ZMQ_SUB, 0);
        zmq_setsockopt(sub[k], ZMQ_SUBSCRIBE, "", 0);
        char server_key[CURVE_KEY_TEXT];
        if (curve) {
            if (!server[k]) {
                fprintf(stderr, "rectify-tail: %s: with CURVE, name the service: "
                                "intake=..., workflow=... or notify=...\n", endpoints[k]);
                goto out;
            }
            if (curve_peer_key(config_str(cfg, SET_keys_dir), server[k], server_key, err,
                               sizeof err) != RC_OK) {
                fprintf(stderr, "rectify-tail: keys_dir: %s\n", err);
                goto out;
            }
            bus_curve_client_with(sub[k], &mine, server_key);
        }
        if (zmq_connect(sub[k], endpoints[k]) != 0) {
            fprintf(stderr, "rectify-tail: cannot connect %s: %s\n", endpoints[k],
                    zmq_strerror(zmq_errno()));
            goto out;
        }
    }
    int sigfd = bus_signal_fd();
    int64_t until = f.timeout_ms ? clock_mono_ms() + f.timeout_ms : 0;
    long shown = 0;
    zmq_pollitem_t items[MAX_ENDPOINTS + 1];
    items[0] = (zmq_pollitem_t){NULL, sigfd, ZMQ_POLLIN, 0};
    for (int k = 0; k < nend; k++)
        items[k + 1] = (zmq_pollitem_t){sub[k], 0, ZMQ_POLLIN, 0};
    while ((!f.count || shown < f.count) && (!until || clock_mono_ms() < until)) {
        int ready = sigfd >= 0 ? zmq_poll(items, nend + 1, 100) : zmq_poll(items + 1, nend, 100);
        if (ready < 0 && zmq_errno() != EINTR)
            break;
        if (sigfd >= 0 && (items[0].revents & ZMQ_POLLIN))
            break;
        for (int k = 0; k < nend; k++) {
            if (!(items[k + 1].revents & ZMQ_POLLIN))
                continue;
            zmq_msg_t msg;
            zmq_msg_init(&msg);
            if (zmq_msg_recv(&msg, sub[k], ZMQ_DONTWAIT) >= 0)
                shown += s_show(&f, zmq_msg_data(&msg), zmq_msg_size(&msg));
            zmq_msg_close(&msg);
        }
    }
    status = 0;
    if (sigfd >= 0)
        close(sigfd);
out:
    memset(&mine, 0, sizeof mine);
    for (int k = 0; k < nend; k++)
        if (sub[k])
            zmq_close(sub[k]);
    zmq_ctx_term(ctx);
    config_destroy(&cfg);
    seen_destroy(&f.seen);
    if (status != 0)
        return status;
    if (f.unparsed)
        fprintf(stderr, "rectify-tail: %ld line(s) could not be parsed (shown marked)\n",
                f.unparsed);
    if (f.repeats)
        fprintf(stderr, "rectify-tail: %ld notice line(s) came again and were shown once\n",
                f.repeats);
    return 0;
}
