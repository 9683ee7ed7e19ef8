print("brokerd: not yet")
