package share

import "context"

// SetListKeys makes c list the key owner's keys with list, standing in for
// a KMS adapter that can call ListKeys.
func SetListKeys(c *Client, list func(ctx context.Context) ([]string, error)) { c.listKeys = list }
