// Package benchcmp compares envelope's streaming encryption with tink-go's
// streaming AEAD (AES256_GCM_HKDF_1MB) and filippo.io/age on the same data,
// in one benchmark run. It is a module of its own (see go.mod) so that the
// library never depends on tink or age; "go test ./..." from the repository
// root does not enter it. Run it with
//
//	cd envelope/benchcmp && go test -run '^$' -bench . -benchtime 10x
//
// Each benchmark reports the envelope's throughput as a multiple of the
// others': "x-tink" is tink's time divided by envelope's, "x-age" age's.
package benchcmp
