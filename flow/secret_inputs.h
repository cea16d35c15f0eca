/* SECRET-type inputs as Kestra keeps them: sealed with the configured key (`kestra.encryption.secret-key`,
 * kt_secrets_key) before the execution is stored, so the execution document, the API and the database only hold
 * the ciphertext; opened again when a task's context is built, and masked in what the run shows. Without a key a
 * SECRET input's value is refused, as Kestra's FlowInputOutput refuses it. Prefix kt_secret_inputs. */
#ifndef KT_FLOW_SECRET_INPUTS_H
#define KT_FLOW_SECRET_INPUTS_H

#include <jansson.h>

#include "base/env.h"
#include "base/secrets.h"
#include "base/status.h"

/* Encrypts, in typed (the resolved inputs), the string value of every input of defs whose type is SECRET, with the
 * key of env->secrets and an IV from env's random source. A SECRET input given a value while no key is configured is
 * refused as Kestra refuses it (KT_EINVAL, err: "Unable to use a `SECRET` input/output as encryption is not
 * configured"): it would be stored and shown in clear. */
#define KT_SECRET_NO_KEY "Unable to use a `SECRET` input/output as encryption is not configured"
kt_status kt_secret_inputs_seal(const json_t *defs, json_t *typed, kt_env *env, char *err, size_t errcap);
/* The inputs with the SECRET ones decrypted (a new reference: a copy when one changed, else inputs itself); each
 * clear value is added to used (may be NULL) for masking. A value that does not open (no key, or stored before a key
 * was configured) is kept as stored. */
json_t *kt_secret_inputs_open(const json_t *defs, json_t *inputs, const kt_secrets *s, json_t *used);

/* Kestra's EncryptedString ({type: KT_ENCRYPTED_STRING, value}: a task output sealed with the key, as http.Request's
 * encryptedBody) is opened when a later render reads the outputs (Kestra's Secret.decrypt): every such object in
 * outputs, in nested objects too, becomes its clear text. A new reference (a copy when one changed, else outputs
 * itself). Without a key, or a value that does not open, the stored value stands in (Kestra warns the same way). */
#define KT_ENCRYPTED_STRING "io.kestra.datatype:aes_encrypted"
json_t *kt_secret_outputs_open(json_t *outputs, const kt_secrets *s);

#endif
