print("kafkactl: not yet")
