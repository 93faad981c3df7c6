/* refusal.h: every code an event can be refused with, in one place. intake
 * answers with these (REJECTED, DUPLICATE or RETRY_LATER), workflow records
 * them as a refused outcome, and rectifyctl answers some itself for a line
 * that never reached intake. Code that refuses names an entry here (the
 * compiler holds it to the list); `rectifyctl codes` prints the list, and
 * the README's table is checked against it (test_refusal).
 *
 * Each entry: the code as senders see it, who gives it, its class (errors.h;
 * workflow's handlers return it) and what it means. */
#ifndef RECTIFY_REFUSAL_H
#define RECTIFY_REFUSAL_H

#include <stdbool.h>

enum {
    BY_INTAKE = 1,    /* in intake's Ack */
    BY_WORKFLOW = 2,  /* a refused outcome */
    BY_RECTIFYCTL = 4 /* rectifyctl's own answer: nothing was sent */
};

/* X(code, by, class, meaning) */
#define REFUSALS(X)                                                                                \
    /* the frame and its fields, checked by intake before anything is stored */                    \
    X(malformed, BY_INTAKE, RC_ERR_INVALID, "the frame is not one protobuf Envelope")              \
    X(too_large, BY_INTAKE, RC_ERR_INVALID, "the frame is larger than max_message_bytes")          \
    X(nul_in_text, BY_INTAKE, RC_ERR_INVALID, "a text field holds a NUL byte")                     \
    X(invalid_utf8, BY_INTAKE, RC_ERR_INVALID,                                                     \
      "a text field is not valid UTF-8 (overlong forms, surrogates and code points past "          \
      "U+10FFFF included)")                                                                        \
    X(field_too_long, BY_INTAKE, RC_ERR_INVALID, "a field or a list is longer than its limit")     \
    X(missing_field, BY_INTAKE | BY_WORKFLOW, RC_ERR_INVALID,                                      \
      "a required field is absent or empty")                                                       \
    X(invalid_field, BY_INTAKE | BY_WORKFLOW, RC_ERR_INVALID,                                      \
      "a field's value is not of its form (a date, a UUID, a code, a value of its enum)")          \
    X(out_of_range, BY_INTAKE, RC_ERR_INVALID, "a number is outside its range (sent_at_ms)")       \
    X(unknown_event, BY_INTAKE | BY_WORKFLOW, RC_ERR_INVALID,                                      \
      "the event type is not known here (the sender is newer)")                                    \
    X(invalid_data, BY_INTAKE | BY_WORKFLOW, RC_ERR_INVALID,                                       \
      "the database refused a value of the event (the message names it)")                          \
    X(future_date, BY_WORKFLOW, RC_ERR_INVALID, "on_date is after today")                          \
    /* the event id */                                                                             \
    X(duplicate, BY_INTAKE, RC_ERR_STATE,                                                          \
      "the same event was accepted before: it is not applied again (status DUPLICATE)")            \
    X(id_reused, BY_INTAKE, RC_ERR_STATE, "the event id was accepted before with other content")   \
    /* who is speaking */                                                                          \
    X(unauthenticated, BY_INTAKE, RC_ERR_DENIED,                                                   \
      "the connection has no key (cannot happen while the ZAP handler runs)")                      \
    X(unknown_key, BY_INTAKE, RC_ERR_DENIED, "the connection's key is not a system key")           \
    X(key_revoked, BY_INTAKE, RC_ERR_DENIED, "the connection's key has been revoked")              \
    X(unit_mismatch, BY_INTAKE, RC_ERR_DENIED, "the Envelope's unit is not the key's unit")        \
    X(rate_limited, BY_INTAKE, RC_ERR_STATE,                                                       \
      "the key posts faster than rate_per_s (status RETRY_LATER, with retry_after_ms)")            \
    X(unavailable, BY_INTAKE, RC_ERR_DB,                                                           \
      "intake cannot store the event now (status RETRY_LATER: send the same bytes again)")         \
    X(unknown_sender, BY_WORKFLOW, RC_ERR_DENIED, "the sending unit is not registered")            \
    X(denied, BY_WORKFLOW, RC_ERR_DENIED,                                                          \
      "the sender's role or place in the unit tree does not allow the action")                     \
    /* what the event refers to */                                                                 \
    X(unknown_unit, BY_WORKFLOW, RC_ERR_NOTFOUND,                                                  \
      "a unit named is not registered, or not under the sender")                                   \
    X(unknown_round, BY_WORKFLOW, RC_ERR_NOTFOUND, "the round is not known")                       \
    X(unknown_problem, BY_WORKFLOW, RC_ERR_NOTFOUND, "the feedback problem is not known")          \
    X(unknown_item, BY_WORKFLOW, RC_ERR_NOTFOUND, "the rectification item is not known")           \
    X(unknown_task, BY_WORKFLOW, RC_ERR_NOTFOUND, "the item or measure is not known")              \
    X(unknown_order, BY_WORKFLOW, RC_ERR_NOTFOUND, "the work order is not known")             \
    X(unknown_case, BY_WORKFLOW, RC_ERR_NOTFOUND, "the repeat-complaint case is not known")  \
    /* the state of things */                                                                      \
    X(unit_exists, BY_WORKFLOW, RC_ERR_STATE, "the unit is registered already")                    \
    X(round_exists, BY_WORKFLOW, RC_ERR_STATE, "the round is open already")                        \
    X(problem_exists, BY_WORKFLOW, RC_ERR_STATE, "the problem is posted already")                  \
    X(task_exists, BY_WORKFLOW, RC_ERR_STATE, "the item or measure is posted already")             \
    X(record_exists, BY_WORKFLOW, RC_ERR_STATE, "the record is posted already")                    \
    X(institution_exists, BY_WORKFLOW, RC_ERR_STATE, "the institution is recorded already")        \
    X(action_exists, BY_WORKFLOW, RC_ERR_STATE, "the accountability action is recorded already")   \
    X(order_exists, BY_WORKFLOW, RC_ERR_STATE, "the work order is registered already")          \
    X(order_paused, BY_WORKFLOW, RC_ERR_STATE,                                                   \
      "the work order is paused: only resume moves it")                                          \
    X(invalid_transition, BY_WORKFLOW, RC_ERR_STATE,                                               \
      "the task's or order's state does not allow the action (the message names the state "    \
      "and what the action needs)")                                                                             \
    X(measures_open, BY_WORKFLOW, RC_ERR_STATE,                                                    \
      "an item cannot close while one of its measures is open")                                    \
    X(long_term, BY_WORKFLOW, RC_ERR_STATE,                                                        \
      "a long-term task closes by decision, not by write-off")                                     \
    X(not_long_term, BY_WORKFLOW, RC_ERR_STATE, "only a long-term task closes by decision")        \
    X(plan_conflict, BY_WORKFLOW, RC_ERR_STATE,                                                    \
      "a revised plan contradicts the plan as it stands (the message names the row)")              \
    X(stale_date, BY_WORKFLOW, RC_ERR_STATE,                                                       \
      "on_date is before the task's last change: history is not rewritten")                        \
    /* rectifyctl, for a line it could not send */                                                 \
    X(bad_json, BY_RECTIFYCTL, RC_ERR_INVALID, "the line is not a JSON object, or too long")       \
    X(bad_field, BY_RECTIFYCTL, RC_ERR_INVALID,                                                    \
      "a field the schema does not have, or a value of the wrong type")                            \
    X(no_memory, BY_RECTIFYCTL, RC_ERR_NOMEM, "rectifyctl ran out of memory for the line")         \
    X(no_key, BY_RECTIFYCTL, RC_ERR_CONFIG, "key_file holds no certificate of the event's unit")   \
    X(key_refused, BY_RECTIFYCTL, RC_ERR_DENIED,                                                   \
      "intake refused the key at the handshake (unknown or revoked)")                              \
    X(unanswered, BY_RECTIFYCTL, RC_ERR_TIMEOUT, "intake did not answer after every send")

typedef enum {
#define REFUSAL_ENUM(code, by, class, meaning) REFUSAL_##code,
    REFUSALS(REFUSAL_ENUM)
#undef REFUSAL_ENUM
        REFUSAL_COUNT
} refusal_t;

/* The code as senders see it ("unit_mismatch"). */
const char *refusal_code(refusal_t r);
/* What it means, in a sentence. */
const char *refusal_meaning(refusal_t r);
/* Who gives it: BY_INTAKE, BY_WORKFLOW, BY_RECTIFYCTL, or'ed. */
int refusal_by(refusal_t r);
/* Its class (RC_ERR_INVALID, ...). */
int refusal_class(refusal_t r);
/* The entry of a code, or REFUSAL_COUNT when there is none. */
refusal_t refusal_find(const char *code);

#endif
