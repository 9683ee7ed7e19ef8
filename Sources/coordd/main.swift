print("coordd: not yet")
