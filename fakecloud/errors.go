package fakecloud

import (
	"fmt"
	"net/http"
)

// Error is a refusal by the emulated cloud: what the service puts in its
// error body. Over the wire the SDK turns it into a *tea.SDKError with the
// same Code and StatusCode; Go-level calls (Service.AssumeRole) return it
// directly.
type Error struct {
	Status  int    // HTTP status
	Code    string // e.g. "Rejected.ShareQuotaExceedLimit"
	Message string // the service's message, sometimes with emulator detail appended
}

func (e *Error) Error() string {
	return fmt.Sprintf("fakecloud: %s (HTTP %d): %s", e.Code, e.Status, e.Message)
}

// Evidence for an error definition: whether Alibaba documents the code for
// the operations the emulator returns it from.
const (
	documented = "documented"
	assumed    = "assumed"
)

// errorDef is one row of the error table.
type errorDef struct {
	Status   int
	Message  string
	Evidence string // documented or assumed; see the package doc
	// Status400 lists operations that return the code with HTTP 400
	// instead of Status (KMS documents Forbidden.NoPermission as 400 for a
	// few management calls).
	Status400 []string
}

// errorTable is the single table of every error code the emulator emits,
// with status, message and evidence (../shared/reference/kms.md §10,
// ram-sts.md §7, wire-protocol.md §8). Keys of the form "sts:Code" override
// "Code" for one service. "documented" means the reference files list the
// code (and status) for the operations that use it; messages are
// Alibaba's where the references quote them and the emulator's own
// wording elsewhere. Assumed rows are listed in the package doc, and a
// test keeps the two in step.
func errorTable() map[string]errorDef {
	return map[string]errorDef{
		// Authentication and the gateway.
		"InvalidAccessKeyId.NotFound":                {404, "The Access Key ID provided does not exist in our records.", documented, nil},
		"SignatureDoesNotMatch":                      {400, "Specified signature is not matched with our calculation.", assumed, nil},
		"IncompleteSignature":                        {400, "The request signature does not conform to Aliyun standards.", assumed, nil},
		"MissingSecurityToken":                       {400, "SecurityToken is mandatory for this action.", assumed, nil},
		"InvalidSecurityToken.Expired":               {400, "Specified SecurityToken is expired.", assumed, nil},
		"InvalidSecurityToken.MismatchWithAccessKey": {400, "Specified SecurityToken mismatch with the AccessKey.", assumed, nil},
		"InvalidAction.NotFound":                     {404, "Specified api is not found, please check your url and method.", assumed, nil},
		"Throttling.User":                            {400, "Request was denied due to user flow control.", assumed, nil},
		"ServiceUnavailable":                         {503, "The request has failed due to a temporary failure of the server.", assumed, nil},
		"InternalError":                              {500, "The request processing has failed due to some unknown error.", assumed, nil},
		"MissingParameter":                           {400, "The parameter needed but no provided.", documented, nil},
		"InvalidTimeStamp.Expired":                   {400, "Specified time stamp or date value is expired.", documented, nil},
		"InvalidTimeStamp.Format":                    {400, "Specified time stamp or date value is not well formatted.", assumed, nil},
		"SignatureNonceUsed":                         {400, "Specified signature nonce was used already.", documented, nil},

		// KMS.
		"Forbidden.NoPermission":             {403, "This operation is forbidden by permission system.", assumed, []string{"SetKeyPolicy", "GetKeyPolicy", "CreateKey"}},
		"Forbidden.KeyNotFound":              {404, "The specified Key is not found.", documented, nil},
		"Forbidden.AliasNotFound":            {404, "The specified Alias is not found.", documented, nil},
		"Forbidden.ResourceNotFound":         {404, "Policy not found.", assumed, nil},
		"Forbidden.KeyPolicyUnSupported":     {400, "The specified key does not support key policy.", documented, nil},
		"Forbidden.DKMSInstanceNotFound":     {403, "The specified DKMS Instance is not found.", documented, nil},
		"Forbidden.DKMSInstanceStateInvalid": {403, "The DKMS instance state is invalid.", documented, nil},
		"Rejected.ShareQuotaExceedLimit":     {400, "Instance Share Quota Exceed Limit.", documented, nil},
		"Rejected.LimitExceeded":             {400, "The request was rejected because user create resource limit was exceeded", documented, nil},
		"Rejected.Disabled":                  {409, "The request was rejected because the key state is Disabled.", documented, nil},
		"Rejected.PendingDeletion":           {409, "The request was rejected because the key state is PendingDeletion.", documented, nil},
		"Rejected.Unavailable":               {409, "The request was rejected because the key state is Unavailable.", assumed, nil},
		"Rejected.UnexpectedState":           {409, "The request was rejected because the key state is unexpected.", assumed, nil},
		"InvalidParameter":                   {400, "The specified parameter is not valid.", documented, nil},
		"UnsupportedOperation":               {400, "This action is not supported.", documented, nil},
		"Rejected.Throttling":                {429, "QPS Limit Exceeded", documented, nil},
		"Forbidden.InternetAccessDisabled":   {403, "Internet access to the keys of this KMS instance is not enabled for the account.", assumed, nil},
		"InternalFailure":                    {500, "Internal Failure", documented, nil},
		"SerivceUnvailableTemporary":         {503, "Service unavailable temporary", documented, nil},

		// RAM.
		"NoPermission":                             {403, "You are not authorized to do this action. You should be authorized by RAM.", documented, nil},
		"MalformedPolicyDocument":                  {409, "The policy format is invalid.", documented, nil},
		"EntityAlreadyExists.Role":                 {409, "The role already exists.", documented, nil},
		"EntityNotExist.Role":                      {404, "The role does not exist.", documented, nil},
		"InvalidParameter.RoleName.InvalidChars":   {400, "The parameter RoleName contains invalid characters.", documented, nil},
		"InvalidParameter.RoleName.Length":         {400, "The parameter RoleName must be 1 to 64 characters.", documented, nil},
		"InvalidParameter.Description.Length":      {400, "The parameter Description must not exceed 1024 characters.", documented, nil},
		"InvalidParameter.MaxSessionDuration":      {400, "The parameter MaxSessionDuration must be 3600 to 43200.", assumed, nil},
		"InvalidParameter.MaxItems":                {400, "The parameter MaxItems must be 1 to 1000.", assumed, nil},
		"InvalidParameter.RotateStrategy":          {400, "The parameter RotateStrategy is wrongly formed.", assumed, nil},
		"DeleteConflict.Role.Policy":               {409, "The role still has policies attached.", documented, nil},
		"EntityAlreadyExists.Policy":               {409, "The policy already exists.", documented, nil},
		"EntityNotExist.Policy":                    {404, "The policy does not exist.", documented, nil},
		"InvalidParameter.PolicyDocument.Length":   {400, "The parameter PolicyDocument must not exceed 6144 characters.", documented, nil},
		"InvalidParameter.PolicyName.InvalidChars": {400, "The parameter PolicyName contains invalid characters.", documented, nil},
		"InvalidParameter.PolicyName.Length":       {400, "The parameter PolicyName must be 1 to 128 characters.", documented, nil},
		"InvalidParameter.PolicyType":              {400, "The parameter PolicyType must be System or Custom.", documented, nil},
		"InvalidParameter.VersionId.Format":        {400, "The parameter VersionId is wrongly formed.", documented, nil},
		"LimitExceeded.Policy.Version":             {409, "The maximum number of policy versions is exceeded.", documented, nil},
		"EntityNotExist.Policy.Version":            {404, "The policy version does not exist.", documented, nil},
		"DeleteConflict.Policy.Version.Default":    {409, "The default policy version cannot be deleted.", documented, nil},
		"DeleteConflict.Policy.Version":            {409, "The policy has non-default versions.", documented, nil},
		"DeleteConflict.Policy.User":               {409, "The policy is attached to users.", documented, nil},
		"EntityAlreadyExists.Role.Policy":          {409, "The policy has already been attached to the role.", assumed, nil},
		"EntityNotExist.Role.Policy":               {404, "The policy is not attached to the role.", assumed, nil},
		"LimitExceeded.Role.Policy":                {409, "The number of policies attached to the role exceeds the limit.", documented, nil},
		"EntityAlreadyExists.User":                 {409, "The user already exists.", assumed, nil},
		"EntityNotExist.User":                      {404, "The user does not exist.", assumed, nil},
		"InvalidParameter.UserName.InvalidChars":   {400, "The parameter UserName contains invalid characters.", assumed, nil},
		"InvalidParameter.UserName.Length":         {400, "The parameter UserName must be 1 to 64 characters.", assumed, nil},
		"EntityAlreadyExists.User.Policy":          {409, "The policy has already been attached to the user.", documented, nil},
		"EntityNotExist.User.Policy":               {404, "The policy is not attached to the user.", documented, nil},
		"LimitExceeded.User.Policy":                {409, "The number of policies attached to the user exceeds the limit.", assumed, nil},
		"LimitExceeded.User.AccessKey":             {409, "The number of access keys of the user exceeds the limit.", assumed, nil},

		// STS (service-specific messages first).
		"sts:EntityNotExist.Role":          {404, "The specified Role not exists .", documented, nil},
		"InvalidParameter.DurationSeconds": {400, "The Min/Max value of DurationSeconds is 15min/1hr.", documented, nil},
		"InvalidParameter.ExternalId":      {400, "The parameter ExternalId is wrongly formed.", documented, nil},
		"InvalidParameter.RoleArn":         {400, "The parameter RoleArn is wrongly formed.", documented, nil},
		"InvalidParameter.RoleSessionName": {400, "The parameter RoleSessionName is wrongly formed.", documented, nil},
		"InvalidParameter.PolicyGrammar":   {400, "The parameter Policy has not passed grammar check.", documented, nil},
		"InvalidParameter.PolicySize":      {400, "The size of Policy must be smaller than 2048 bytes.", documented, nil},

		// ResourceManager (resourcemanager.go).
		"EntityNotExists.ResourceDirectory": {404, "The resource directory does not exist.", assumed, nil},
		"EntityNotExists.Folder":            {404, "The folder does not exist.", assumed, nil},
		"EntityNotExists.Account":           {404, "The member does not exist in the resource directory.", assumed, nil},
	}
}

// rootAssumeRoleMessage is the documented text when an account's root
// credentials call AssumeRole.
const rootAssumeRoleMessage = "Roles may not be assumed by root accounts."

// newError builds the error for code as service/action return it. detail,
// if not empty, is appended to the documented message to say what the
// emulator objected to; it must never contain a secret.
func (c *Cloud) newError(service, action, code, detail string) *Error {
	def, ok := c.errors[service+":"+code]
	if !ok {
		def, ok = c.errors[code]
	}
	if !ok {
		// A code missing from the table is a bug in the emulator; say so
		// rather than invent a status.
		return &Error{Status: http.StatusInternalServerError, Code: "InternalError",
			Message: "fakecloud: error code " + code + " is missing from the error table"}
	}
	status := def.Status
	if containsString(def.Status400, action) {
		status = http.StatusBadRequest
	}
	msg := def.Message
	if detail != "" {
		msg += " (" + detail + ")"
	}
	return &Error{Status: status, Code: code, Message: msg}
}
