print("renkeid")
