#!/bin/sh
# The streaming function's handler (template.yaml, HfProxyStreamFunction): the Lambda Web Adapter's
# wrapper (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap) runs it as a command, then waits until the server
# it starts answers on PORT at AWS_LWA_READINESS_CHECK_PATH (https://github.com/aws/aws-lambda-web-adapter).
cd "${LAMBDA_TASK_ROOT:-$(dirname "$0")/../..}" || exit 1
exec python3 -m functions.aws_lambda.stream
