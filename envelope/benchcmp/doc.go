// Package benchcmp compares envelope's streaming encryption (64 KiB and 1 MiB
// segments) with tink-go's streaming AEAD (its AES256_GCM_HKDF_1MB and
// AES256_GCM_HKDF_4KB templates) and filippo.io/age on the same data from the
// same kind of source, in one benchmark run. It is a module of its own (see
// go.mod) so that the library never depends on tink or age; "go test ./..."
// from the repository root does not enter it. Run it with
//
//	cd envelope/benchcmp && go test -run '^$' -bench . -rounds 7
//
// It prints one table: every contender's median throughput and, round by
// round, its time over each envelope configuration's (above 1: envelope is
// faster).
package benchcmp
