/* An AOS-style json-iface process for wasm64@1.0 tests: `handle(msg_json, env_json) -> result_json`.
 *
 * State (kept in linear memory across messages): a counter and a key-value table.
 * Actions (the message's Action tag):
 *   Count (default)  counter += 1; Output "count=<n>"
 *   Set / Get        table[Key tag] = Data / Output the value ("" when missing)
 *   Send             one outbox message to the Recipient tag, Action=Reply, Data echoed
 *   Spawn            one spawn with Data echoed
 *   Assign           one assignment of the Message tag to the Recipient tag
 *   Grow             allocate and touch <Data> KiB, kept forever (memory grows)
 *   Print            printf Data to stdout (WASI fd_write)
 *   Fail             response Error = "failed on request"
 *   Trap             __builtin_trap()
 * The JSON reader is minimal: it relies on the host writing tags as {"name":"N","value":"V"} and keeps
 * escape sequences as they are (copied values stay valid JSON strings).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <emscripten.h>

#define MAX_KEYS 256

static long long counter = 0;
static char *keys[MAX_KEYS];
static char *values[MAX_KEYS];
static int nkeys = 0;
static char *grown = NULL; /* blocks kept by Grow, chained through their first bytes (keeps them live) */

/* The raw (still escaped) JSON string starting after `prefix` in `json`, or NULL. */
static char *find_string(const char *json, const char *prefix) {
  const char *p = strstr(json, prefix);
  if (!p) return NULL;
  p += strlen(prefix);
  const char *q = p;
  while (*q && *q != '"') q += (*q == '\\' && q[1]) ? 2 : 1;
  char *out = malloc(q - p + 1);
  memcpy(out, p, q - p);
  out[q - p] = 0;
  return out;
}

static char *tag(const char *json, const char *name) {
  char prefix[128];
  snprintf(prefix, sizeof prefix, "{\"name\":\"%s\",\"value\":\"", name);
  return find_string(json, prefix);
}

static char *dup(const char *s) { return strcpy(malloc(strlen(s) + 1), s); }

EMSCRIPTEN_KEEPALIVE char *handle(char *msg, char *env) {
  (void)env;
  char *action = tag(msg, "Action");
  char *data = find_string(msg, "\"Data\":\"");
  char *from = find_string(msg, "\"From\":\"");
  if (!data) data = dup("");
  if (!action) action = dup("Count");
  char *output = NULL, *messages = dup(""), *spawns = dup(""), *assignments = dup(""), *error = dup("");
  size_t cap = strlen(data) + 512;

  if (!strcmp(action, "Count")) {
    counter++;
    output = malloc(64);
    snprintf(output, 64, "count=%lld", counter);
  } else if (!strcmp(action, "Set") || !strcmp(action, "Get")) {
    char *key = tag(msg, "Key");
    if (!key) key = dup("");
    int i;
    for (i = 0; i < nkeys && strcmp(keys[i], key); i++) {}
    if (!strcmp(action, "Set")) {
      if (i == nkeys && nkeys < MAX_KEYS) { keys[nkeys] = dup(key); values[nkeys++] = NULL; }
      if (i < nkeys) { free(values[i]); values[i] = dup(data); }
      output = dup("ok");
    } else {
      output = dup(i < nkeys ? values[i] : "");
    }
    free(key);
  } else if (!strcmp(action, "Send") || !strcmp(action, "Assign")) {
    char *to = tag(msg, "Recipient");
    if (!to) to = dup(from ? from : "");
    char *m = malloc(cap + strlen(to));
    if (!strcmp(action, "Send")) {
      sprintf(m, "{\"Target\":\"%s\",\"Anchor\":\"%lld\",\"Tags\":[{\"name\":\"Action\",\"value\":\"Reply\"}],"
                 "\"Data\":\"%s\"}", to, counter, data);
      free(messages); messages = m;
    } else {
      char *which = tag(msg, "Message");
      sprintf(m, "{\"Processes\":[\"%s\"],\"Message\":\"%s\"}", to, which ? which : "");
      free(which);
      free(assignments); assignments = m;
    }
    free(to);
    output = dup("sent");
  } else if (!strcmp(action, "Spawn")) {
    char *m = malloc(cap);
    sprintf(m, "{\"Tags\":[{\"name\":\"Type\",\"value\":\"Process\"}],\"Data\":\"%s\"}", data);
    free(spawns); spawns = m;
    output = dup("spawned");
  } else if (!strcmp(action, "Grow")) {
    size_t kib = (size_t)atol(data);
    char *block = malloc(kib * 1024);
    if (!block) { free(error); error = dup("out of memory"); output = dup(""); }
    else {
      memset(block, 1, kib * 1024);
      memcpy(block, &grown, sizeof grown);
      grown = block;
      output = dup("grown");
    }
  } else if (!strcmp(action, "Print")) {
    printf("%s\n", data);
    fflush(stdout);
    output = dup("printed");
  } else if (!strcmp(action, "Fail")) {
    free(error); error = dup("failed on request");
    output = dup("");
  } else if (!strcmp(action, "Trap")) {
    __builtin_trap();
  } else {
    output = dup("unknown action");
  }

  size_t n = strlen(output) + strlen(messages) + strlen(spawns) + strlen(assignments) + strlen(error) + 256;
  char *result = malloc(n);
  snprintf(result, n,
           "{\"ok\":true,\"response\":{\"Output\":{\"data\":\"%s\",\"prompt\":\"aos> \",\"print\":true},"
           "\"Messages\":[%s],\"Spawns\":[%s],\"Assignments\":[%s],\"Error\":\"%s\"}}",
           output, messages, spawns, assignments, error);
  free(action); free(data); free(from); free(output); free(messages); free(spawns); free(assignments);
  free(error);
  /* The result string is freed at the start of the next call: the host reads it in between. */
  static char *last = NULL;
  free(last);
  last = result;
  return result;
}
