print("renkei-receiver")
