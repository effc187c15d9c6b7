/* cpns-msg subcommands, one file each. Each returns the process exit code. */
#ifndef CPNS_EXAMPLES_MSG_MSG_H
#define CPNS_EXAMPLES_MSG_MSG_H

/** cpns-msg decode FILE|- (examples/msg/decode.c) */
int msg_decode_main(int argc, char **argv);
/** cpns-msg id entity|user STRING (examples/msg/id.c) */
int msg_id_main(int argc, char **argv);

#endif /* CPNS_EXAMPLES_MSG_MSG_H */
