/* What Kestra's own tests assert for each flow of ../shared/kestra-acceptance/flows (copies of Kestra's
 * core/src/test/resources/flows/valids at 58c1ca2): one row per Kestra test (a flow may have several), EVERY flow
 * file has at least one row. The expected values are data read from Kestra's tests at that commit (the test is
 * named in kestra_test); no Kestra code is copied.
 *
 * file      the flow file, relative to the flows folder
 * inputs    name,value pairs sent as multipart fields, NULL-terminated; a name starting with '?' is a query
 *           parameter instead (e.g. "?labels", "key:value" = an execution label); "file:ID" sends the value as
 *           the file of input ID (a file part: field `files`, filename ID, as Kestra's clients send it)
 *           {"@after", FILE, ...}: a flow started by Flow triggers: the upstream flows run first, then the row
 *           checks the (last) execution of its flow they triggered; {"@count", "N"}: N are expected (default 1)
 *           a value "@paused:FILE": FILE's flow is started and waited for until PAUSED, its id is the value; the
 *           case then also waits for that execution to end SUCCESS (a resume)
 *           {"@api", "METHOD /path", BODY, ...}: API calls made before the execution (a KV entry put or deleted),
 *           each must answer 2xx; the inputs follow
 *           {..., "@then", ACTION, STATE, N, CHECKS, FINAL_STATE, FINAL_N, FINAL_CHECKS, ...} after the inputs: once
 *           the execution passed the row's own checks, ACTION is asked of the API — "restart" (POST …/restart),
 *           "replay" (…/replay, from the start) or "replay:SEL" (…/replay?taskRunId= the run SEL picks) — and its
 *           answer is checked (for "next", nothing is asked: the execution a CREATE_NEW_EXECUTION retry made of
 *           this one, parentId = its id, is found and only the FINAL fields apply) (STATE, N task runs — "-1": not asserted —, CHECKS); then, unless FINAL_STATE is "",
 *           the execution it answered (the same, or the replay) is waited for and checked the same way. "" = no
 *           checks. Several @then steps run one after the other (a restart of a restart), each on the last one
 * state     the execution's expected final state, NULL when the Kestra test does not assert it
 * taskruns  the expected taskRunList size, -1 when not asserted
 * checks    ';'-separated, each KIND:TARGET OP VALUE with OP one of  =  ~ (contains)  ^ (starts with)  >=
 *           % (POSIX extended regex). A task run selector SEL is "taskId" (its first run), "taskId[value]" (the
 *           run with that innermost loop value) or "#i" (index in taskRunList, -1 = last).
 *             taskrun:SEL=STATE          attempts:SEL=N           taskid:SEL=TASKID
 *             output:SEL.path OP v       (path into the task run's outputs, e.g. output:#0.values.output1=xyz)
 *             anyoutput:TASKID.path OP v (some run of the task matches)
 *             count:TASKID=N             (runs of that task)       nstate:STATE>=N (runs in that state)
 *             flowoutput:path OP v       (execution outputs; "flowoutput:=<null>" = no outputs)
 *             nflowoutputs:=N            label:KEY OP v            nlabels:=N
 *             log:~text                  (some log line of the execution)   logcount:text>=N
 *           Values are compared as text (strings as is, other JSON compact); <null> / <missing> stand for those.
 * skip      NULL (runs), or why Kite cannot pass it yet: the feature it lacks, or "KNOWN FAIL: <what Kite does>"
 *           for a gap found by this test. KITE_ACCEPTANCE_ALL=1 runs the skipped rows too and says which pass.
 *           A type that does not run yet is not written here: a row whose flow uses one is skipped with the
 *           catalogue's list (kt_task_unsupported_in_flow, flow/tasks.h), and runs once every type of it does.
 */
#ifndef KT_ACCEPTANCE_CASES_H
#define KT_ACCEPTANCE_CASES_H

#include <stddef.h>

#define ACC_MAX_INPUTS 32

typedef struct acc_case {
    const char *file;
    const char *inputs[ACC_MAX_INPUTS];
    const char *state;
    int taskruns;
    const char *checks;
    const char *kestra_test;
    const char *skip;
} acc_case;

#define NOIN {NULL}
#define ISO_DATETIME "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"

/* AllowFailureTest.control */
#define ALLOW_FAILURE_CONTROL                                                                                        \
    "taskrun:first=WARNING;taskrun:1-1-allow-failure=WARNING;taskrun:1-1-1_seq=FAILED;taskrun:1-1-1-1=SUCCESS;"     \
    "taskrun:ko=FAILED;taskrun:local-error=SUCCESS;taskrun:1-2-todo=SUCCESS"

/* ForEachItemCaseTest.content(): 102 lines, each the number left-padded to 20 characters (26 batches of 4). */
#define FEI_ITEMS \
    "                   0\n" "                   1\n" "                   2\n" \
    "                   3\n" "                   4\n" "                   5\n" \
    "                   6\n" "                   7\n" "                   8\n" \
    "                   9\n" "                  10\n" "                  11\n" \
    "                  12\n" "                  13\n" "                  14\n" \
    "                  15\n" "                  16\n" "                  17\n" \
    "                  18\n" "                  19\n" "                  20\n" \
    "                  21\n" "                  22\n" "                  23\n" \
    "                  24\n" "                  25\n" "                  26\n" \
    "                  27\n" "                  28\n" "                  29\n" \
    "                  30\n" "                  31\n" "                  32\n" \
    "                  33\n" "                  34\n" "                  35\n" \
    "                  36\n" "                  37\n" "                  38\n" \
    "                  39\n" "                  40\n" "                  41\n" \
    "                  42\n" "                  43\n" "                  44\n" \
    "                  45\n" "                  46\n" "                  47\n" \
    "                  48\n" "                  49\n" "                  50\n" \
    "                  51\n" "                  52\n" "                  53\n" \
    "                  54\n" "                  55\n" "                  56\n" \
    "                  57\n" "                  58\n" "                  59\n" \
    "                  60\n" "                  61\n" "                  62\n" \
    "                  63\n" "                  64\n" "                  65\n" \
    "                  66\n" "                  67\n" "                  68\n" \
    "                  69\n" "                  70\n" "                  71\n" \
    "                  72\n" "                  73\n" "                  74\n" \
    "                  75\n" "                  76\n" "                  77\n" \
    "                  78\n" "                  79\n" "                  80\n" \
    "                  81\n" "                  82\n" "                  83\n" \
    "                  84\n" "                  85\n" "                  86\n" \
    "                  87\n" "                  88\n" "                  89\n" \
    "                  90\n" "                  91\n" "                  92\n" \
    "                  93\n" "                  94\n" "                  95\n" \
    "                  96\n" "                  97\n" "                  98\n" \
    "                  99\n" "                 100\n" "                 101\n"
#define FEI_CHECK_ "output:#2.numberOfBatches=26;output:#2.iterations.CREATED=0;output:#2.iterations.RUNNING=0;"

static const acc_case acc_cases[] = {
    {"allow-failure.yaml", NOIN, "WARNING", 9,
     ALLOW_FAILURE_CONTROL ";count:global-error=0;taskrun:last=SUCCESS", "AllowFailureTest.success",
     "not reachable over the API: input 'crash' is required (no defaults), POST answers 422 as Kestra's does; the "
     "Kestra test starts the execution without input validation"},
    {"allow-failure.yaml", {"crash", "1", NULL}, "FAILED", 10,
     ALLOW_FAILURE_CONTROL ";taskrun:global-error=SUCCESS;taskrun:switch=FAILED;taskrun:crash=FAILED",
     "AllowFailureTest.failed", NULL},
    {"current-output.yaml", NOIN, NULL, -1,
     "anyoutput:1-1-1_return.value=return-v11-v21-v31;anyoutput:1-1-1_return.value=return-v11-v21-v32;"
     "anyoutput:1-1-1_return.value=return-v11-v22-v31;anyoutput:1-1-1_return.value=return-v11-v22-v32;"
     "anyoutput:1-1-1_return.value=return-v12-v21-v31;anyoutput:1-1-1_return.value=return-v12-v21-v32;"
     "anyoutput:1-1-1_return.value=return-v12-v22-v31;anyoutput:1-1-1_return.value=return-v12-v22-v32;"
     "anyoutput:2-1_return.value=return-v41;anyoutput:2-1_return.value=return-v42",
     "CurrentEachOutputFunctionTest.parallel (asserts Execution.outputs() by loop values)", NULL},
    {"dag.yaml", NOIN, "SUCCESS", 7, NULL, "DagTest.dag", NULL},
    {"disable-flowable.yaml", NOIN, NULL, 10, NULL, "DisabledTest.flowable", NULL},
    {"each-empty.yaml", NOIN, "SUCCESS", 2, NULL, "EachSequentialTest.eachEmpty", NULL},
    {"each-null.yaml", NOIN, "FAILED", 1,
     "log:~Found '1' null values on Each, with values=[1, null, {key=my-key, value=my-value}]",
     "EachSequentialTest.eachNull",
     NULL},
    {"each-object.yaml", NOIN, "SUCCESS", 8, "output:#6.value~json > JSON > [\"my-complex\"]",
     "EachSequentialTest.object", NULL},
    {"each-parallel-Integer.yml", NOIN, "SUCCESS", -1, NULL, "EachParallelTest.parallelInteger", NULL},
    {"each-parallel-nested.yaml", NOIN, "SUCCESS", 11, NULL, "EachParallelTest.parallelNested", NULL},
    {"each-parallel-nested.yaml",
     {"@then", "replay:2-1_seq[value 1]", "RESTARTED", "8", "taskrun:2-1_seq[value 1]=RUNNING;nstate:SUCCESS>=6",
      "SUCCESS", "11", "nstate:SUCCESS>=11", NULL},
     "SUCCESS", 11, NULL, "ExecutionServiceTest.replayEachPara (then the replay runs to its end)", NULL},
    {"each-parallel-pause.yml", NOIN, "SUCCESS", 7, NULL, "PauseTest.runParallelDelay (JdbcRunnerTest)", NULL},
    {"each-parallel-subflow-notfound.yml", NOIN, "FAILED", -1, "nstate:FAILED>=2",
     "JdbcRunnerTest.eachParallelWithSubflowMissing", NULL},
    {"each-parallel.yaml", NOIN, "SUCCESS", 8, NULL, "EachParallelTest.parallel", NULL},
    /* also asserts relations between loop outputs (2_return contains 1-2-1_return[s1, a a], ...): not expressed */
    {"each-sequential-nested.yaml", NOIN, "SUCCESS", 23, NULL, "EachSequentialTest.sequentialNested", NULL},
    {"each-sequential-nested.yaml",
     {"@then", "replay:1-2_each[s1]", "RESTARTED", "5", "taskrun:1-2_each[s1]=RUNNING;count:1-1_return=3",
      "SUCCESS", "23", "count:1-2-1_return=6", NULL},
     "SUCCESS", 23, NULL, "ExecutionServiceTest.replayEachSeq (then the replay runs to its end)", NULL},
    {"each-sequential-nested.yaml",
     {"@then", "replay:1-2-1_return[a a]", "RESTARTED", "6",
      "taskrun:1-2_each[s1]=RUNNING;taskrun:1-2-1_return[a a]=RESTARTED", "SUCCESS", "23",
      "count:1-2-1_return=6;count:1-1_return=3", NULL},
     "SUCCESS", 23, NULL, "ExecutionServiceTest.replayEachSeq2 (then the replay runs to its end)", NULL},
    {"each-sequential.yaml", NOIN, "WARNING", 11, NULL, "EachSequentialTest.sequential", NULL},
    {"each-switch.yaml", NOIN, "SUCCESS", 12,
     "anyoutput:2-1-1_switch-number-1.value=1;anyoutput:2-1-1_switch-number-2.value=2 b",
     "EachSequentialTest.eachSwitch", NULL},
    {"empty-variables.yml",
     {"emptyKey", "{ \"foo\": \"\" }", "emptySubObject", "{\"json\":{\"someEmptyObject\":{}}}", NULL}, "SUCCESS", 3,
     NULL, "EmptyVariablesTest.emptyVariables", NULL},
    {"errors.yaml", NOIN, NULL, 7, "log:~- task: failed, message: Task failure", "JdbcRunnerTest.errors",
     NULL},
    {"execution.yaml", NOIN, NULL, -1,
     "output:#0.value%^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
     "JdbcRunnerTest.executionDate",
     NULL},
    {"fail-on-condition.yaml", {"param", "fail", NULL}, "FAILED", 2, "taskrun:fail=FAILED",
     "FailTest.failOnCondition", NULL},
    {"fail-on-condition.yaml", {"param", "success", NULL}, "SUCCESS", 3, "taskrun:fail=SUCCESS",
     "FailTest.dontFailOnCondition", NULL},
    {"fail-on-switch.yaml", {"param", "fail", NULL}, "FAILED", 1, "taskrun:switch=FAILED", "FailTest.failOnSwitch",
     NULL},
    {"failed-first.yaml", NOIN, "FAILED", 1, "taskrun:#0=FAILED", "VariablesTest.failedFirst", NULL},
    {"failed-first.yaml",
     {"@then", "restart", "RESTARTED", "1", "taskrun:#0=RESTARTED", "FAILED", "1", "attempts:#0=2",
      "@then", "restart", "RESTARTED", "1", "taskrun:#0=RESTARTED", "FAILED", "1", "attempts:#0=3", NULL},
     "FAILED", 1, "taskrun:#0=FAILED", "RestartCaseTest.restartMultiple (restarted twice, FAILED each time)", NULL},
    /* concurrency: the state is the one of the second execution started while the first one runs */
    {"flow-concurrency-cancel-pause.yml", NOIN, "CANCELLED", -1, NULL,
     "FlowConcurrencyCaseTest.flowConcurrencyCancelPause (2nd execution)",
     "two executions at once: covered by test_server test_concurrency"},
    {"flow-concurrency-cancel.yml", NOIN, "CANCELLED", -1, NULL,
     "FlowConcurrencyCaseTest.flowConcurrencyCancel (2nd execution)",
     "two executions at once: covered by test_server test_concurrency"},
    {"flow-concurrency-fail.yml", NOIN, "FAILED", -1, NULL,
     "FlowConcurrencyCaseTest.flowConcurrencyFail (2nd execution)",
     "two executions at once: covered by test_server test_concurrency"},
    {"flow-concurrency-queue.yml", NOIN, "SUCCESS", -1, NULL,
     "FlowConcurrencyCaseTest.flowConcurrencyQueue (2nd execution: CREATED, QUEUED, RUNNING, SUCCESS)",
     
     "two executions at once: covered by test_server test_concurrency"},
    {"flow-trigger-preconditions-flow-a.yaml", NOIN, "SUCCESS", 1, NULL,
     "MultipleConditionTriggerCaseTest.flowTriggerPreconditions (source flow)", NULL},
    {"flow-trigger-preconditions-flow-b.yaml", NOIN, "SUCCESS", 1, NULL,
     "MultipleConditionTriggerCaseTest.flowTriggerPreconditions (source flow)", NULL},
    {"flow-trigger-preconditions-flow-listen.yaml",
     {"@after", "flow-trigger-preconditions-flow-a.yaml", "@after", "flow-trigger-preconditions-flow-b.yaml", NULL},
     "SUCCESS", 1, "output:only.value=It works;taskrun:only=SUCCESS",
     "MultipleConditionTriggerCaseTest.flowTriggerPreconditions (triggered after flow-a and flow-b)", NULL},
    {"flow-with-array-outputs.yml", NOIN, "SUCCESS", -1,
     "nflowoutputs:=1;flowoutput:myout~1rstValue;flowoutput:myout~2ndValue",
     "FlowOutputTest.shouldGetSuccessExecutionForFlowWithArrayOutputs", NULL},
    {"flow-with-outputs-failed.yml", NOIN, "FAILED", -1, "flowoutput:=<null>",
     "FlowOutputTest.shouldGetFailExecutionForFlowWithInvalidOutputs", NULL},
    {"flow-with-outputs.yml", NOIN, "SUCCESS", -1, "nflowoutputs:=1;flowoutput:key={\"value\":\"flow-with-outputs\"}",
     "FlowOutputTest.shouldGetSuccessExecutionForFlowWithOutputs", NULL},
    {"flowable-with-parent-fail.yaml", NOIN, "FAILED", 5, NULL, "BadFlowableTest.flowableWithParentFail", NULL},
    {"for-each-item-failed.yaml", {"file:file", FEI_ITEMS, NULL}, "FAILED", 3,
     "attempts:#2=1;taskrun:#2=FAILED;" FEI_CHECK_ "output:#2.iterations.FAILED=26",
     "ForEachItemCaseTest.forEachItemFailed (file input of 102 lines, batches of 4)", NULL},
    {"for-each-item-outputs-subflow.yaml", {"@after", "for-each-item-outputs.yaml", "file:file", FEI_ITEMS, "@count", "26", NULL},
     "SUCCESS", 1, "output:#0.value%^( {1,20}[0-9]{1,3}\n){1,4}$",
     "ForEachItemCaseTest.forEachItemWithSubflowOutputs (the triggered subflow: reads its batch with read())", NULL},
    {"for-each-item-outputs.yaml", {"file:file", FEI_ITEMS, NULL}, "SUCCESS", 5,
     "attempts:#2=1;taskrun:#2=SUCCESS;" FEI_CHECK_ "output:#2.iterations.SUCCESS=26;"
     "output:#3.subflowOutputs^kestra:///io/kestra/tests/for-each-item-outputs/executions/;"
     "output:#4.value^kestra:///io/kestra/tests/for-each-item-outputs/executions/",
     "ForEachItemCaseTest.forEachItemWithSubflowOutputs (file input)", NULL},
    {"for-each-item-subflow-failed.yaml", {"@after", "for-each-item-failed.yaml", "file:file", FEI_ITEMS, "@count", "26", NULL},
     "FAILED", 1, "taskrun:per-item=FAILED", "ForEachItemCaseTest.forEachItemFailed (the triggered subflow)", NULL},
    {"for-each-item-subflow.yaml",
     {"@after", "for-each-item.yaml", "file:file", FEI_ITEMS, "batch", "4", "@count", "26", NULL}, "SUCCESS", 1,
     "taskrun:per-item=SUCCESS;log:~kestra:///io/kestra/tests/for-each-item/executions/",
     "ForEachItemCaseTest.forEachItem (the triggered subflow)", NULL},
    {"for-each-item.yaml", {"file:file", FEI_ITEMS, "batch", "4", NULL}, "SUCCESS", 4,
     "attempts:#2=1;taskrun:#2=SUCCESS;" FEI_CHECK_ "output:#2.iterations.SUCCESS=26",
     "ForEachItemCaseTest.forEachItem (file input)", NULL},
    {"foreach-concurrent-parallel.yaml", NOIN, "SUCCESS", 10, NULL, "ForEachTest.concurrentWithParallel", NULL},
    {"foreach-non-concurrent.yaml", NOIN, "SUCCESS", 7, NULL, "ForEachTest.nonConcurrent", NULL},
    {"full.yaml", NOIN, "SUCCESS", 13, "output:t2.value~value1", "JdbcRunnerTest.full", NULL},
    {"get-log.yaml", NOIN, "SUCCESS", 4, "output:get-log-task.size=3", "FetchTest.fetch", NULL},
    {"if-condition.yaml", {"param", "true", NULL}, "SUCCESS", 2, "taskrun:when-true=SUCCESS",
     "IfTest.ifTruthy (true / \"true\")", NULL},
    {"if-condition.yaml", {"param", "1", NULL}, "SUCCESS", 2, "taskrun:when-true=SUCCESS", "IfTest.ifTruthy (1)",
     NULL},
    {"if-condition.yaml", {"param", "false", NULL}, "SUCCESS", 2, "taskrun:when-false=SUCCESS",
     "IfTest.ifFalsy (false / \"false\")", NULL},
    {"if-condition.yaml", {"param", "0", NULL}, "SUCCESS", 2, "taskrun:when-false=SUCCESS", "IfTest.ifFalsy (0)",
     NULL},
    {"if-condition.yaml", {"param", "-0", NULL}, "SUCCESS", 2, "taskrun:when-false=SUCCESS",
     "IfTest.ifFalsy (-0, an int in Java: sent as text here)", NULL},
    {"if-in-flowable.yaml", {"param", "true", NULL}, "SUCCESS", 8, "taskrun:after_if=SUCCESS", "IfTest.ifInFlowable",
     NULL},
    {"if-without-else.yaml", {"param", "true", NULL}, "SUCCESS", 2, "taskrun:when-true=SUCCESS",
     "IfTest.ifWithoutElse (true)", NULL},
    {"if-without-else.yaml", {"param", "false", NULL}, "SUCCESS", 1, "count:when-true=0",
     "IfTest.ifWithoutElse (false)", NULL},
    {"if.yaml", {"if1", "true", "if2", "false", "if3", "true", NULL}, "SUCCESS", 12, NULL, "IfTest.multipleIf", NULL},
    {"inputs-small-files.yaml", {"file:f", "hello", NULL}, "SUCCESS", -1, "flowoutput:o^kestra://",
     "ExecutionControllerTest.triggerInputSmall (multipart file part 'f')", NULL},
    /* InputsTest.inputs' required values. Its FILE is a local path Kestra's test uploads under its own name
     * (application-test.yml); over the API the file is a multipart part, named as FlowInputOutput names uploads. */
    {"inputs.yaml",
     {"string", "myString", "enum", "ENUM_VALUE", "int", "42", "float", "42.42", "instant", "2019-10-06T18:27:49Z",
      "file:file", "kestra: true\n", "secret", "secret", "array", "[1, 2, 3]", NULL},
     "SUCCESS", 14,
     "output:file.value%^kestra:///io/kestra/tests/inputs/executions/.*/inputs/file/file_[0-9]+[.]upl$;"
     "output:secret.value=secret;output:optional.value=",
     "InputsTest.inputFlow (InputsTest.inputs: every input type, a FILE among them)", NULL},
    {"inputs.yaml",
     {"string", "myString", "enum", "ENUM_VALUE", "int", "42", "float", "42.42", "instant", "2019-10-06T18:27:49Z",
      "file:file", "kestra: true\n", "secret", "secret", "array", "[1, 2, 3]", "json", "{}", NULL},
     "SUCCESS", 14, "output:jsonOutput.value={}",
     "InputsTest.inputEmptyJsonFlow (InputsTest.inputs with json={})", NULL},
    {"kv.yaml", {"@api", "PUT /api/v1/namespaces/io.kestra.tests/kv/my-key", "{\"field\":\"value\"}", NULL}, NULL,
     -1, "output:#0.value=value;output:#1.value=value", "KvFunctionTest.get (my-key put in the KV store first)", NULL},
    {"kv.yaml", {"@api", "DELETE /api/v1/namespaces/io.kestra.tests/kv/my-key", "", "errorOnMissing", "true", NULL},
     NULL, -1,
     "output:#0.value=;taskrun:#0=SUCCESS;taskrun:#1=FAILED;"
     "log:~The key 'my-key' does not exist in the namespace 'io.kestra.tests'.",
     "KvFunctionTest.getKeyNotFound", NULL},
    {"labels-update-task.yml",
     {"labelsJson", "{\"keyFromJson\": \"valueFromJson\"}", "labelsMapKey", "keyFromMap", "labelsMapValue",
      "valueFromMap", "labelsListKey", "keyFromList", "labelsListValue", "valueFromList", "?labels",
      "keyFromExecution:valueFromExecution", "?labels",
      "overriddenExecutionLabelKey:executionValueThatWillGetOverridden",
      NULL},
     "SUCCESS", 4,
     "nlabels:=8;label:system.correlationId%.;label:flowLabelKey=flowLabelValue;"
     "label:overriddenFlowLabelKey=io.kestra.tests.labels-update-task;label:keyFromJson=valueFromJson;"
     "label:keyFromMap=valueFromMap;label:keyFromList=valueFromList;label:keyFromExecution=valueFromExecution;"
     "label:overriddenExecutionLabelKey%^.+$",
     "RuntimeLabelsTest.update", NULL},
    {"minimal.yaml", NOIN, "SUCCESS", -1, NULL,
     "SkipExecutionCaseTest.skipExecution, ExecutionControllerTest.changeStatus",
     NULL},
    {"npe-labels-update-task.yml", NOIN, "SUCCESS", 1, "label:someLabel%^.+$",
     "RuntimeLabelsTest.noNpeOnNullPreviousExecutionLabels", NULL},
    {"output-values.yml", NOIN, "SUCCESS", 1, "output:#0.values.output1=xyz;output:#0.values.output2=abc",
     "OutputValuesTest.output", NULL},
    {"parallel-nested.yaml", NOIN, "SUCCESS", 11, NULL, "ParallelTest.parallelNested", NULL},
    {"parallel-nested.yaml",
     {"@then", "replay:1-3-2_par", "RESTARTED", "8", "taskrun:1-3-2_par=RUNNING;count:2_end=0", "SUCCESS", "11",
      "count:2_end=1", NULL},
     "SUCCESS", 11, NULL, "ExecutionServiceTest.replayParallel (then the replay runs to its end)", NULL},
    {"parallel.yaml", NOIN, NULL, 8, NULL, "ParallelTest.parallel", NULL},
    {"pause-delay.yaml", NOIN, "SUCCESS", 3, NULL, "PauseTest.runDelay (JdbcRunnerTest.pauseRunDelay)", NULL},
    {"pause-timeout.yaml", NOIN, "FAILED", 1, NULL, "PauseTest.runTimeout", NULL},
    {"pause.yaml", NOIN, "SUCCESS", -1, NULL, "PauseTest.run (PAUSED with 1 task run, then resumed)",
     "resume (an action mid-run: the runner only starts and waits)"},
    {"pause_on_resume.yaml", NOIN, "SUCCESS", -1,
     "output:last.values.asked=restarted;output:last.values.data^kestra://",
     "PauseTest.runOnResume (resumed with inputs asked=restarted and file data)", "resume (an action mid-run: the runner only starts and waits)"},
    {"pause_on_resume_optional.yaml", NOIN, "SUCCESS", -1, "output:last.values.asked=MISSING",
     "PauseTest.runOnResumeOptionalInputs (resumed without inputs)", "resume (an action mid-run: the runner only starts and waits)"},
    {"primitive-labels-flow.yml", {"intLabel", "42", "boolLabel", "true", "floatLabel", "3.14", "?labels",
                                   "existingLabel:someValue", NULL},
     "SUCCESS", 1,
     "nlabels:=6;label:system.correlationId%.;label:intValue=42;label:boolValue=true;label:floatValue=3.14;"
     "label:taskRunId%^.+$;label:existingLabel=someValue",
     "RuntimeLabelsTest.primitiveTypeLabels", NULL},
    {"restart_last_failed.yaml",
     {"@then", "restart", "RESTARTED", "3", "taskrun:#2=RESTARTED;taskrun:#0=SUCCESS", "SUCCESS", "4",
      "attempts:#2=2;attempts:#0=1;nstate:SUCCESS>=4", NULL},
     "FAILED", 3, "taskrun:#2=FAILED",
     "RestartCaseTest.restartFailedThenSuccess, ExecutionServiceTest.restartSimple (restarted: c's 2nd attempt)",
     NULL},
    {"resume-execution.yaml", {"executionId", "@paused:pause.yaml", NULL}, "SUCCESS", 1, "taskrun:resume=SUCCESS",
     "ResumeTest.resume (executionId = a PAUSED pause.yaml run, which then ends SUCCESS)", NULL},
    {"retry-expo.yaml", NOIN, "FAILED", 1, "attempts:#0=3", "RetryCaseTest.retryExpo", NULL},
    {"retry-fail.yaml", NOIN, "FAILED", 2, "attempts:#0=3", "RetryCaseTest.retryFail", NULL},
    {"retry-failed-flow-duration.yml", NOIN, "FAILED", -1, "attempts:#0=3", "RetryCaseTest.retryFailedFlowDuration",
     NULL},
    {"retry-failed-task-attempts.yml", NOIN, "FAILED", -1, "attempts:#0=4", "RetryCaseTest.retryFailedTaskAttempts",
     NULL},
    {"retry-failed.yaml", NOIN, "FAILED", 2, "attempts:#0=5", "RetryCaseTest.retryFailed", NULL},
    {"retry-flowable-parallel.yaml", NOIN, "FAILED", -1, "attempts:#1>=2;attempts:#2>=2",
     "RetryCaseTest.retryFlowableParallel", NULL},
    {"retry-flowable.yaml", NOIN, "FAILED", -1, "attempts:#1=3", "RetryCaseTest.retryFlowable", NULL},
    {"retry-new-execution-task-attempts.yml",
     {"@then", "next", "", "-1", "", "RETRIED", "1", "taskrun:#0=RETRIED;attempts:#0=1",
      "@then", "next", "", "-1", "", "FAILED", "1", "taskrun:#0=FAILED;attempts:#0=1", NULL},
     "RETRIED", 1, "taskrun:#0=RETRIED;attempts:#0=1",
     "RetryCaseTest.retryNewExecutionTaskAttempts (3 executions: RETRIED, RETRIED, FAILED)", NULL},
    {"retry-subflow.yaml", NOIN, "FAILED", -1, "attempts:#0=3", "RetryCaseTest.retrySubflow", NULL},
    {"retry-success-first-attempt.yaml", NOIN, "SUCCESS", 1, "attempts:#0=1",
     "RetryCaseTest.retrySuccessAtFirstAttempt",
     NULL},
    {"retry-success.yaml", NOIN, "WARNING", 1, "attempts:#0=4", "RetryCaseTest.retrySuccess", NULL},
    {"return.yaml", NOIN, NULL, 3, "output:#0.value%" ISO_DATETIME ";output:#1.value=task-id;output:#2.value=return",
     "RunContextTest.variables", NULL},
    {"sequential-with-global-errors.yaml", NOIN, "FAILED", 6, NULL, "SequentialTest.sequentialWithGlobalErrors", NULL},
    {"sequential-with-local-errors.yaml", NOIN, "FAILED", 6, NULL, "SequentialTest.sequentialWithLocalErrors", NULL},
    {"sequential.yaml", NOIN, "SUCCESS", 11, NULL, "SequentialTest.sequential", NULL},
    {"sla-execution-condition.yaml", NOIN, "SUCCESS", -1, NULL, "SLATestCase.executionConditionSLAShouldPass", NULL},
    {"sla-execution-condition.yaml", {"string", "CANCEL", NULL}, "CANCELLED", -1, NULL,
     "SLATestCase.executionConditionSLAShouldCancel", NULL},
    {"sla-execution-condition.yaml", {"string", "LABEL", NULL}, "SUCCESS", -1, "label:sla=violated",
     "SLATestCase.executionConditionSLAShouldLabel", NULL},
    {"sla-max-duration-fail.yaml", NOIN, "FAILED", -1, NULL, "SLATestCase.maxDurationSLAShouldFail", NULL},
    {"sleep-task-flow.yaml", NOIN, "SUCCESS", -1, NULL, "SleepTest.sleepTaskTest", NULL},
    {"sleep.yml", NOIN, "KILLED", -1, NULL, "ExecutionControllerTest.kill (killed while RUNNING)", "kill (an action mid-run: the runner only starts and waits)"},
    {"subflow-child.yaml", NOIN, "SUCCESS", -1, "label:system.correlationId%.",
     "CorrelationIdTest.shouldHaveCorrelationId (child of subflow-parent)", NULL},
    {"subflow-grand-child.yaml", NOIN, "SUCCESS", -1, "label:system.correlationId%.",
     "CorrelationIdTest.shouldHaveCorrelationId (grand-child of subflow-parent)", NULL},
    {"subflow-parent.yaml", NOIN, "SUCCESS", -1, NULL, "CorrelationIdTest.shouldHaveCorrelationId", NULL},
    {"switch-impossible.yaml", {"string", "impossible", NULL}, "FAILED", -1, NULL, "SwitchTest.switchImpossible",
     NULL},
    {"switch.yaml", {"string", "FIRST", NULL}, NULL, -1,
     "taskid:#1=t1;output:parent-seq.value=FIRST;output:parent-seq.defaults=false", "SwitchTest.switchFirst", NULL},
    {"switch.yaml", {"string", "SECOND", NULL}, NULL, -1,
     "taskid:#1=t2;output:parent-seq.value=SECOND;output:parent-seq.defaults=false;taskid:#2=t2_sub",
     "SwitchTest.switchSecond", NULL},
    {"switch.yaml", {"string", "THIRD", NULL}, NULL, -1,
     "taskid:#1=t3;output:parent-seq.value=THIRD;output:parent-seq.defaults=false;taskid:#2=failed;taskid:#3=error-t1",
     "SwitchTest.switchThird", NULL},
    {"switch.yaml", {"string", "DEFAULT", NULL}, NULL, -1,
     "taskid:#1=default;output:parent-seq.value=DEFAULT;output:parent-seq.defaults=true", "SwitchTest.switchDefault",
     NULL},
    {"task-allow-failure-executable-flow.yml", NOIN, "WARNING", 2, NULL, "TaskWithAllowFailureTest.executableTask_Flow",
     NULL},
    {"task-allow-failure-flowable.yml", NOIN, "WARNING", 3, NULL, "TaskWithAllowFailureTest.flowableTask", NULL},
    {"task-allow-failure-runnable.yml", NOIN, "WARNING", 2, "attempts:fail=3", "TaskWithAllowFailureTest.runnableTask",
     NULL},
    {"task-allow-warning-runnable.yml", NOIN, "SUCCESS", 2, "attempts:fail=3", "TaskWithAllowWarningTest.runnableTask",
     NULL},
    {"task-flow-inherited-labels.yaml", {"string", "OK", NULL}, "SUCCESS", 1, "attempts:#0=1",
     "FlowCaseTest.noLabels (FlowTest)", NULL},
    {"task-flow.yaml", {"string", "OK", "?labels", "mainFlowExecutionLabel:execFoo", NULL}, "SUCCESS", 1,
     "attempts:#0=1;output:#0.outputs.extracted~default > amazing;output:#0.state=SUCCESS",
     "FlowCaseTest.waitSuccess", NULL},
    {"task-flow.yaml", {"string", "THIRD", "?labels", "mainFlowExecutionLabel:execFoo", NULL}, "FAILED", 1,
     "attempts:#0=1;output:#0.outputs.extracted~Error Trigger ! error-t1;output:#0.state=FAILED",
     "FlowCaseTest.waitFailed", NULL},
    {"task-flow.yaml", {"string", "FIRST", "?labels", "mainFlowExecutionLabel:execFoo", NULL}, "FAILED", 1,
     "attempts:#0=1", "FlowCaseTest.invalidOutputs", NULL},
    {"task-runif.yml", NOIN, "FAILED", 4,
     "taskrun:executed=SUCCESS;taskrun:notexecuted=SKIPPED;taskrun:willfailedtheflow=FAILED",
     "TaskWithRunIfTest.runnableTask", NULL},
    {"trigger-flow-listener-namespace-condition.yaml", {"@after", "trigger-flow.yaml", NULL}, "SUCCESS", 1,
     "output:#0.value=simple return", "FlowTriggerCaseTest.trigger, MultipleConditionTriggerCaseTest.failed (triggered)",
     NULL},
    {"trigger-flow-listener-namespace-condition.yaml", {"@after", "trigger-multiplecondition-flow-d.yaml", NULL},
     "SUCCESS", 1, NULL, "MultipleConditionTriggerCaseTest.failed (triggered by flow-d's SUCCESS)", NULL},
    {"trigger-flow-listener-no-inputs.yaml", {"@after", "trigger-flow.yaml", NULL}, "SUCCESS", 1,
     "output:#0.value^v1: ", "FlowTriggerCaseTest.trigger (triggered)", NULL},
    {"trigger-flow-listener-with-pause.yaml", {"@after", "trigger-flow-with-pause.yaml", "@count", "4", NULL},
     "SUCCESS", 1, "flowoutput:status=SUCCESS",
     "FlowTriggerCaseTest.triggerWithPause (4 triggered: RUNNING, PAUSED, RUNNING, SUCCESS)", NULL},
    {"trigger-flow-listener.yaml", {"@after", "trigger-flow.yaml", NULL}, "SUCCESS", 1,
     "output:#0.value^childs: from parents: ", "FlowTriggerCaseTest.trigger (triggered)", NULL},
    {"trigger-flow-with-pause.yaml", NOIN, "SUCCESS", 3, NULL, "FlowTriggerCaseTest.triggerWithPause (source flow)",
     NULL},
    {"trigger-flow.yaml", NOIN, "SUCCESS", 1, NULL, "FlowTriggerCaseTest.trigger (source flow)", NULL},
    {"trigger-multiplecondition-flow-a.yaml", NOIN, "SUCCESS", 1, NULL,
     "MultipleConditionTriggerCaseTest.trigger (source flow)", NULL},
    {"trigger-multiplecondition-flow-b.yaml", NOIN, "SUCCESS", 1, NULL,
     "MultipleConditionTriggerCaseTest.trigger (source flow)", NULL},
    {"trigger-multiplecondition-flow-c.yaml", NOIN, "FAILED", 1, NULL,
     "MultipleConditionTriggerCaseTest.failed (source flow)", NULL},
    {"trigger-multiplecondition-flow-d.yaml", NOIN, "SUCCESS", 1, NULL,
     "MultipleConditionTriggerCaseTest.failed (source flow)", NULL},
    {"trigger-multiplecondition-listener.yaml",
     {"@after", "trigger-multiplecondition-flow-a.yaml", "@after", "trigger-multiplecondition-flow-b.yaml", NULL},
     "SUCCESS", 1, "output:#0.value=childs",
     "MultipleConditionTriggerCaseTest.trigger (triggered after flow-a and flow-b)", NULL},
    {"variables-invalid.yaml", NOIN, "FAILED", 2,
     "taskrun:#1=FAILED;log:~Unable to find `inputs` used in the expression `{{inputs.invalid}}`",
     "VariablesTest.invalidVars", NULL},
    {"waitfor-max-iterations.yaml", NOIN, "FAILED", 2,
     "output:#0.iterationCount=4;output:#1.values.count=4;log:~Max iterations reached",
     "WaitForCaseTest.waitforMaxIterations", NULL},
    {"waitfor-multiple-tasks.yaml", NOIN, "SUCCESS", -1, "output:#-1.values.count=4",
     "WaitForCaseTest.waitforMultipleTasks", NULL},
    {"waitfor.yaml", NOIN, "SUCCESS", 2, "output:#0.iterationCount=2;taskid:#0=waitfor", "WaitForCaseTest.waitfor",
     NULL},
    {"webhook-dynamic-key.yaml", NOIN, NULL, -1, NULL, NULL, "no Kestra assertion"},
    {"webhook-with-condition.yaml", NOIN, NULL, -1, NULL, NULL, "no Kestra assertion"},
    {"webhook.yaml", NOIN, NULL, -1, "label:flow-label-1=flow-label-1;label:flow-label-2=flow-label-2",
     "ExecutionControllerTest.webhook (trigger variables body/parameters)",
     "started by the webhook endpoint, not POST /executions: covered by test_server test_webhook"},
    {"working-directory-each.yaml", NOIN, "SUCCESS", 8, "output:2_end.value^kestra://", "WorkingDirectoryTest.each", NULL},
    {"working-directory-inputs.yml", NOIN, "SUCCESS", 2, "output:#1.uris%input\\.txt",
     "WorkingDirectoryTest.inputFiles", NULL},
    {"working-directory-outputs.yml", NOIN, "SUCCESS", 2, "output:#0.outputFiles%.",
     "WorkingDirectoryTest.outputFiles", NULL},
    {"working-directory.yaml", {"failed", "false", NULL}, "SUCCESS", 4, "output:#3.value^kestra://",
     "WorkingDirectoryTest.success", NULL},
    {"working-directory.yaml", {"failed", "true", NULL}, "FAILED", 3, "count:error-t1=1",
     "WorkingDirectoryTest.failed", NULL},
    {"working-directory.yaml",
     {"failed", "true", "@then", "restart", "RESTARTED", "-1", "taskrun:#0=RESTARTED;count:error-t1=0", "FAILED",
      "3", "taskrun:#0=FAILED;count:error-t1=1", NULL},
     "FAILED", 3, NULL, "ExecutionServiceTest.restartDynamic (the WorkingDirectory runs again whole)", NULL},
    /* not a Kestra file: the flow TimeoutTest builds in Java */
    {"derived/timeout-sleep.yaml", NOIN, "FAILED", -1, "logcount:Timeout>=2", "TimeoutTest.timeout",
     NULL},
};

#endif
