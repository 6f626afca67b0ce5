/*
 * test_kafka_resume.c -- unit test for where partitions resume when a
 * revocation comes while a run is half read (sl_kafka_resume_before, in
 * sl_kafka).  It works on librdkafka's partition lists, so unlike the
 * processor tests it links sl_kafka and librdkafka (tests/CMakeLists.txt
 * lists it among the I/O-part tests that the purity check leaves out).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sl/kafka.h"
#include "sl/msg.h"

/* The consumer's positions are past everything polled; messages polled but
 * not processed pull their partition back to the first of them, on that
 * partition only; a partition without a position takes the message's. */
static void test_resume_before(void **state)
{
    rd_kafka_topic_partition_list_t *pos = rd_kafka_topic_partition_list_new(4);
    sl_msg unprocessed[4];

    (void)state;
    memset(unprocessed, 0, sizeof(unprocessed));
    rd_kafka_topic_partition_list_add(pos, "up", 0)->offset = 120;
    rd_kafka_topic_partition_list_add(pos, "up", 1)->offset = 57;
    rd_kafka_topic_partition_list_add(pos, "up", 2)->offset = RD_KAFKA_OFFSET_INVALID;
    rd_kafka_topic_partition_list_add(pos, "other", 0)->offset = 9;
    unprocessed[0] = (sl_msg){ .topic = "up", .partition = 0, .offset = 117 };
    unprocessed[1] = (sl_msg){ .topic = "up", .partition = 0, .offset = 118 };
    unprocessed[2] = (sl_msg){ .topic = "up", .partition = 2, .offset = 4 };
    unprocessed[3] = (sl_msg){ .topic = "gone", .partition = 0, .offset = 1 };
    sl_kafka_resume_before(pos, unprocessed, 4);
    assert_int_equal(rd_kafka_topic_partition_list_find(pos, "up", 0)->offset, 117);
    assert_int_equal(rd_kafka_topic_partition_list_find(pos, "up", 1)->offset, 57);
    assert_int_equal(rd_kafka_topic_partition_list_find(pos, "up", 2)->offset, 4);
    assert_int_equal(rd_kafka_topic_partition_list_find(pos, "other", 0)->offset, 9);
    assert_null(rd_kafka_topic_partition_list_find(pos, "gone", 0));
    /* nothing unprocessed: the positions stand */
    sl_kafka_resume_before(pos, unprocessed, 0);
    assert_int_equal(rd_kafka_topic_partition_list_find(pos, "up", 0)->offset, 117);
    rd_kafka_topic_partition_list_destroy(pos);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_before),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
