// Command custos runs the Custos account center; every replica runs the
// same binary.
//
//	custos [serve] [flags]       run the server (the default)
//	custos migrate [flags]       apply database migrations and exit
//	custos admin [flags] COMMAND operator commands: account EMAIL,
//	                             unlock EMAIL, tokens import [--psk HEX] FILE,
//	                             tokens list, audit [filters], backup PATH,
//	                             staff add|reinvite|disable|list
//	custos version               the version and VCS revision (build info)
//	custos help [COMMAND]        list the commands and flags
//
// The command line is strict: a first word that is not a flag must be a
// command, serve and migrate take no arguments, every command and admin
// command answers --help with its own usage and does nothing else, and an
// admin command refuses an argument starting with "-" that is not one of
// its flags. Usage errors are one line on standard error, exit status 2,
// before anything is opened; failures while running exit 1.
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
// app wires, opens sqlstore itself for migrate and admin (including the
// read-only ListHardwareTokens and AuditEvents of *sqlstore.DB, and VACUUM
// INTO for backups), and reads token files with tokenimport. Nothing imports it.
package main
