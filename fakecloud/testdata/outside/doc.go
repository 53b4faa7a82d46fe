// Package outside is a user's module, outside kmsshare: its test proves
// that the emulator, share and envelope can be used from another module
// through their public packages alone (no internal/ import would compile
// here). CI runs it with "go test" in this directory.
package outside
