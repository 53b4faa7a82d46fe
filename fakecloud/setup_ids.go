package fakecloud

import (
	"fmt"

	"github.com/kmsshare/kmsshare/arn"
)

// Set-up with caller-chosen identifiers. Examples and the keyshare CLI's
// simulate mode rebuild a world from a spec that names real-looking account
// UIDs and key IDs; these helpers create exactly those, so that the spec's
// ARNs resolve in the emulator.

// NewAccountWithID creates an account with the given UID (digits, as
// arn.ValidateAccountID requires; real UIDs have 16) and a root access key. It fails if the
// UID is invalid or already taken. Generated IDs never collide with it:
// NewAccount skips UIDs in use.
func (c *Cloud) NewAccountWithID(id, name string) (*Account, error) {
	if err := arn.ValidateAccountID(id); err != nil {
		return nil, fmt.Errorf("fakecloud: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.accounts[id] != nil {
		return nil, fmt.Errorf("fakecloud: account %s already exists", id)
	}
	// Create with a generated UID, then rename before anyone can see it:
	// the account's maps and root key hold pointers, not the UID.
	a := c.newAccountLocked(name)
	acct := c.accounts[a.ID]
	delete(c.accounts, a.ID)
	acct.id = id
	c.accounts[id] = acct
	return &Account{ID: id, Name: name, c: c}, nil
}

// NewKeyWithID creates a key with the given ID in the instance, as NewKey
// does. The ID must be 1 to 128 letters, digits and '-' (real IDs look like
// "key-hzz6801a1b2c3d4e5f6g7") and not in use by any key of the cloud.
func (i *Instance) NewKeyWithID(id string, opts KeyOptions) (*Key, error) {
	if err := checkKeyID(id); err != nil {
		return nil, err
	}
	var k *key
	var err error
	found := false
	i.locked(func(c *Cloud, inst *instance) {
		found = true
		if c.keys[id] != nil {
			err = fmt.Errorf("fakecloud: key %s already exists", id)
			return
		}
		var e *Error
		if k, e = c.createKeyLocked(inst.account, inst.region, inst, opts, "", c.clock.Now()); e != nil {
			err = e
			return
		}
		// Rename while still locked: the instance and alias maps hold the
		// key by pointer, so only the ID index and the ARN change.
		delete(c.keys, k.id)
		k.id, k.arn = id, arn.KMSKey(k.region, inst.account.id, id).String()
		c.keys[id] = k
	})
	switch {
	case !found:
		return nil, errForeign
	case err != nil:
		return nil, err
	}
	return &Key{Account: i.Account, ID: k.id, ARN: k.arn, Region: k.region, Instance: i}, nil
}

func checkKeyID(id string) error {
	if id == "" || len(id) > 128 {
		return fmt.Errorf("fakecloud: key ID %q: want 1 to 128 characters", id)
	}
	for j := 0; j < len(id); j++ {
		if ch := id[j]; !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-') {
			return fmt.Errorf("fakecloud: key ID %q: letters, digits and '-' only", id)
		}
	}
	return nil
}
