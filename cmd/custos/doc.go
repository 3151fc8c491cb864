// Command custos runs the Custos account center; every replica runs the
// same binary.
//
//	custos [serve] [flags]       run the server (the default)
//	custos migrate [flags]       apply database migrations and exit
//	custos admin [flags] COMMAND operator commands: account EMAIL,
//	                             unlock EMAIL, tokens import [--psk HEX] FILE
//	custos help                  list the flags
//
// Every flag can also be set as an environment variable CUSTOS_<NAME>
// (upper case, dashes as underscores); a flag given on the command line
// wins. The configuration is read and validated once, here, into an
// app.Config, and app.Build wires the rest. serve also sweeps ended
// sessions, expired captchas and challenges and unconfirmed MFA devices
// every ten minutes, runs the delivery workers (package queue: every
// replica delivers), and on SIGINT or SIGTERM finishes the requests in
// flight, then lets deliveries in progress finish, before it exits.
// migrate also migrates the delivery queue's tables.
//
// It is at the top of the import graph and may import any package of the
// module: it parses flags into the typed configs of app and of the packages
// app wires, opens sqlstore itself for migrate and admin, and reads token
// files with tokenimport. Nothing imports it.
package main
