package fakecloud

// networkContext adds the network condition keys of the request's origin
// to ctx. It is filled in by the network model (network paths).
func (k *call) networkContext(ctx map[string][]string) {}
