package fakecloud

// The world file schema: what a world file may contain, read by the strict
// decoder in world_json.go. testdata/world.json is a complete example.

// worldFile is the top level of a world file.
type worldFile struct {
	Seed              uint64         `json:"seed"`
	Clock             *worldClock    `json:"clock"`
	GatewayClock      *worldGateway  `json:"gatewayClock"`
	Delays            worldDelays    `json:"delays"`
	LogLimit          int            `json:"logLimit"`
	Accounts          []worldAccount `json:"accounts"`
	ResourceDirectory *worldRD       `json:"resourceDirectory"`
	Faults            []worldFault   `json:"faults"`
}

type worldClock struct {
	// Kind is "real" (the default: wall-clock time, which World.Advance
	// moves ahead), "manual" (stopped at Start until advanced) or "scaled"
	// (Scale times faster than real time from Start).
	Kind  string  `json:"kind"`
	Start string  `json:"start"` // RFC 3339; default DefaultStart
	Scale float64 `json:"scale"`
}

// worldGateway is the clock the API gateway checks request timestamps
// against (Options.GatewayClock): the host's real clock, or that clock
// Ahead or Behind by a fixed amount, to rehearse a host whose clock is
// wrong. Emulator time (clock, World.Advance) does not move it.
type worldGateway struct {
	Ahead  jsonDuration `json:"ahead"`
	Behind jsonDuration `json:"behind"`
}

type worldDelays struct {
	Propagation  jsonDuration `json:"propagation"`
	QuotaRelease jsonDuration `json:"quotaRelease"`
	Visibility   jsonDuration `json:"visibility"`
}

type worldAccount struct {
	Name        string          `json:"name"`
	ID          string          `json:"id"` // optional fixed UID
	Policies    []worldPolicy   `json:"policies"`
	Users       []worldUser     `json:"users"`
	Roles       []worldRole     `json:"roles"`
	Instances   []worldInstance `json:"instances"`
	DefaultKeys []worldKey      `json:"defaultKeys"`
}

type worldPolicy struct {
	Name     string  `json:"name"`
	Document jsonDoc `json:"document"`
}

type worldUser struct {
	Name     string   `json:"name"`
	Policies []string `json:"policies"`
}

type worldRole struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Trust       jsonDoc  `json:"trust"`
	Policies    []string `json:"policies"`
}

type worldInstance struct {
	Name     string `json:"name"`
	Region   string `json:"region"`
	External bool   `json:"external"`
	Quota    int    `json:"quota"`
	KeyQuota int    `json:"keyQuota"`
	// VPC is the VPC the instance is created in (InstanceOptions.VPC).
	VPC string `json:"vpc"`
	// VPCOnly: cryptographic calls from the Internet need the caller's
	// account in Internet (InstanceOptions.VPCOnly).
	VPCOnly bool `json:"vpcOnly"`
	// VPCs are the bound VPCs (InstanceOptions.BindVPCs), each one unit of
	// quota: an ID of the owner's VPC, or an object for any account's.
	VPCs []worldVPC `json:"vpcs"`
	// Internet names the accounts whose Internet access the owner turned
	// on (Instance.SetInternetAccess); only with VPCOnly.
	Internet []string   `json:"internet"`
	Keys     []worldKey `json:"keys"`
}

// worldVPC is a bound VPC: in the file, either its ID as a string (a VPC
// of the instance's owner, in the instance's region) or an object.
type worldVPC struct {
	ID      string `json:"id"`
	VSwitch string `json:"vSwitch"` // "" means one is made up
	Region  string `json:"region"`  // "" means the instance's region
	Account string `json:"account"` // the VPC's account, by name; "" means the owner
}

type worldKey struct {
	Name        string  `json:"name"`
	ID          string  `json:"id"`     // optional fixed key ID (instance keys only)
	Region      string  `json:"region"` // default keys only
	Alias       string  `json:"alias"`
	Description string  `json:"description"`
	Spec        string  `json:"spec"`
	Usage       string  `json:"usage"`
	Policy      jsonDoc `json:"policy"`
}

type worldRD struct {
	Management string        `json:"management"`
	Members    []string      `json:"members"` // accounts in the root folder
	Folders    []worldFolder `json:"folders"`
}

type worldFolder struct {
	Name    string        `json:"name"`
	Members []string      `json:"members"`
	Folders []worldFolder `json:"folders"`
}

type worldFault struct {
	Service      string       `json:"service"`
	Action       string       `json:"action"`
	Account      string       `json:"account"` // the caller's account, by name
	Throttle     float64      `json:"throttle"`
	Unavailable  float64      `json:"unavailable"`
	Internal     float64      `json:"internal"`
	LostResponse float64      `json:"lostResponse"`
	Latency      jsonDuration `json:"latency"`
}
