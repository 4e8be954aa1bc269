print("renkeictl")
