/* sluice-validate: the validate processor on the shared runner. */
#include "sl/runner.h"
#include "validate.h"

int main(int argc, char **argv)
{
    return sl_runner_main(&sl_validate_stage, argc, argv);
}
