/* sluice-commit: the commit sink on the shared runner. */
#include "sl/runner.h"
#include "commit.h"

int main(int argc, char **argv)
{
    return sl_sink_main(&sl_commit_stage, argc, argv);
}
