"""The precision policies a worker can be given (ZOOBOARD_PRECISION) and predictors honour.

auto: bfloat16 where the device runs it natively and it keeps float32's top-1 on a sample; float32; bfloat16:
try it on any device (still checked against float32)."""

PRECISION_POLICIES = ("auto", "float32", "bfloat16")
