package wiwebhook

import "github.com/podid/podid/internal/wi"

// The label, annotations and environment variables are in package wi,
// shared with the node agent and podid migrate; these are the webhook's own.

// The projected token volume, as v1.6 names and mounts it.
const (
	// VolumeNamePrefix starts the projected volume's name; the rest is the
	// start of the SHA-256 of the pod's name (see volumeName).
	VolumeNamePrefix = "azure-workload-identity-reserved-"
	// MountPath is where the volume is mounted, read-only, in each
	// container.
	MountPath = "/var/run/secrets/azure/wi"
	// TokenPath is the token file inside the volume.
	TokenPath = "token/azure-identity-token"
	// TokenFile is AZURE_FEDERATED_TOKEN_FILE: MountPath/TokenPath.
	TokenFile = MountPath + "/" + TokenPath
)

// Defaults and bounds.
const (
	// DefaultAudience is the audience of the projected token, the one
	// Azure AD's token exchange expects.
	DefaultAudience = wi.Audience
	// DefaultAuthorityHost is Azure public cloud's AZURE_AUTHORITY_HOST,
	// with the trailing slash v1.6 writes.
	DefaultAuthorityHost = "https://login.microsoftonline.com/"
	// MinTokenExpiration, MaxTokenExpiration and DefaultTokenExpiration
	// bound the projected token's lifetime, in seconds.
	MinTokenExpiration     = int64(3600)
	MaxTokenExpiration     = int64(86400)
	DefaultTokenExpiration = int64(3600)
)
