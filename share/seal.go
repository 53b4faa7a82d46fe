package share

import (
	"crypto/sha256"
	"encoding/json"

	"github.com/kmsshare/kmsshare/arn"
)

// seal is a SHA-256 digest of a plan's JSON form, taken when a planning call
// (Plan, PlanRevoke, PlanManifest, Onboard, RevokeManifest, PlanRole,
// PlanDeleteRole) returns the plan. The apply calls take it again and act
// only if it is unchanged, so a plan is applied exactly as this package made
// it: one edited afterwards (directly or through a copy), built by hand or
// decoded from JSON has no seal or another digest, and is refused before any
// API call. The plan's JSON is the canonical form: encoding/json writes
// struct fields in declaration order and map keys sorted, and policy
// documents marshal deterministically. The zero seal is never valid.
type seal [sha256.Size]byte

// sealOf digests v's JSON form; a value that does not marshal gets the zero
// seal, which nothing accepts.
func sealOf(v any) seal {
	h := sha256.New()
	if err := json.NewEncoder(h).Encode(v); err != nil {
		return seal{}
	}
	var s seal
	h.Sum(s[:0])
	return s
}

// unsealed is the error for a plan whose seal does not match: maker names
// the calls that make such plans.
func unsealed(maker string) error {
	return &SpecError{Problems: []SpecProblem{{Field: "plan", Reason: "not as " + maker +
		" made it (edited, directly or in a copy, built by hand, or decoded from JSON): plans are applied only unchanged; plan again"}}}
}

// checkSeal returns nil if v (a plan) still has the digest s, else the
// error unsealed returns.
func checkSeal(v any, s seal, maker string) error {
	if s == (seal{}) || sealOf(v) != s {
		return unsealed(maker)
	}
	return nil
}

// noPlan is the error for a nil plan.
func noPlan() error {
	return &SpecError{Problems: []SpecProblem{{Field: "plan", Reason: "no plan"}}}
}

// sameRegion refuses a sealed plan for a key outside the client's region:
// one client planned it, another is applying it.
func sameRegion(key, region string) error {
	if k, err := arn.Parse(key); err == nil && k.Region == region {
		return nil
	}
	return &SpecError{Problems: []SpecProblem{{Field: "plan.spec.key", Value: key,
		Reason: "the key is not in region " + region + ", the region of the client applying the plan"}}}
}
