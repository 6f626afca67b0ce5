/* sluice-scan: the scan processor on the shared runner. */
#include "scan.h"
#include "sl/runner.h"

int main(int argc, char **argv)
{
    return sl_runner_main(&sl_scan_stage, argc, argv);
}
