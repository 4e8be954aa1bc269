// renkeictl: operate renkeid through its status socket. Parsing, help, formatting and the requests
// live in RenkeiControl, where they are tested; this file only hands it the arguments.
import Glibc
import RenkeiControl

exit(ControlProgram.run(Array(CommandLine.arguments.dropFirst())))
