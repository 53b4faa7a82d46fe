package fakecloud

// The world file schema: what a world file may contain, read by the strict
// decoder in world_json.go. testdata/world.json is a complete example.

// worldFile is the top level of a world file.
type worldFile struct {
	Seed              uint64         `json:"seed"`
	Clock             *worldClock    `json:"clock"`
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
	Name     string     `json:"name"`
	Region   string     `json:"region"`
	External bool       `json:"external"`
	Quota    int        `json:"quota"`
	KeyQuota int        `json:"keyQuota"`
	VPCs     []string   `json:"vpcs"` // bound VPC IDs; each uses one unit of quota
	Keys     []worldKey `json:"keys"`
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
	LostResponse float64      `json:"lostResponse"`
	Latency      jsonDuration `json:"latency"`
}
