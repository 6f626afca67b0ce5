/* sluice-license: the license processor on the shared runner. */
#include "sl/runner.h"
#include "license_stage.h"

int main(int argc, char **argv)
{
    return sl_runner_main(&sl_license_processor, argc, argv);
}
