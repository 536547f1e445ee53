package wiwebhook

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/podid/podid/internal/wi"
)

// Config is what the webhook injects besides what the ServiceAccount says.
type Config struct {
	// Audience of the projected token; empty means DefaultAudience.
	Audience string
	// AuthorityHost is AZURE_AUTHORITY_HOST; empty injects none.
	AuthorityHost string
	// TenantID is AZURE_TENANT_ID unless the ServiceAccount has a
	// wi.TenantIDAnnotation.
	TenantID string
}

// Input is one admission of a pod labelled wi.UseLabel: "true".
type Input struct {
	// Pod as admitted; Mutate does not change it.
	Pod *corev1.Pod
	// Namespace of the request; a Deployment's pods arrive without one.
	Namespace string
	// ServiceAccount the pod runs as.
	ServiceAccount *corev1.ServiceAccount
	Config         Config
}

// Result is the pod to admit and what to tell the user about it.
type Result struct {
	// Pod is a mutated copy of Input.Pod.
	Pod *corev1.Pod
	// Warnings are admission warnings: sentences that say what is wrong
	// and what to do. kubectl prints them; the pod is still admitted.
	Warnings []string
}

// Mutate injects workload identity into a pod exactly as
// azure-workload-identity v1.6 does, except for the proxy sidecar:
//
//   - each container and init container not named in wi.SkipContainersAnnotation
//     gets AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE and
//     AZURE_AUTHORITY_HOST appended, each only when the container has no
//     variable of that name and the value is not empty, and the token volume
//     mounted read-only at MountPath (replacing a mount of the same name);
//   - the pod gets the projected ServiceAccount token volume (replacing a
//     volume of the same name), so a second pass changes nothing.
//
// The error, for an expiration annotation that is no number or out of
// [MinTokenExpiration, MaxTokenExpiration], starts with v1.6's own message;
// the webhook refuses the pod with it.
func Mutate(in Input) (Result, error) {
	pod := in.Pod.DeepCopy()
	sa := in.ServiceAccount
	expiration, err := tokenExpiration(pod, sa)
	if err != nil {
		return Result{}, err
	}
	// v1.6 writes the request's namespace into the pod; the patch then
	// carries it too.
	pod.Namespace = in.Namespace
	clientID := sa.Annotations[wi.ClientIDAnnotation]
	tenantID, ok := sa.Annotations[wi.TenantIDAnnotation]
	if !ok {
		tenantID = in.Config.TenantID
	}
	env := []corev1.EnvVar{
		{Name: wi.EnvClientID, Value: clientID},
		{Name: wi.EnvTenantID, Value: tenantID},
		{Name: wi.EnvFederatedTokenFile, Value: TokenFile},
		{Name: wi.EnvAuthorityHost, Value: in.Config.AuthorityHost},
	}
	skip := skipContainers(pod)
	volume := volumeName(pod)
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			if skip[cs[i].Name] {
				continue
			}
			addEnv(&cs[i], env)
			addMount(&cs[i], volume)
		}
	}
	audience := in.Config.Audience
	if audience == "" {
		audience = DefaultAudience
	}
	addVolume(pod, tokenVolume(volume, audience, expiration))
	return Result{Pod: pod, Warnings: mutateWarnings(pod, sa, clientID, tenantID, skip)}, nil
}

// tokenExpiration is the pod's wi.TokenExpirationAnnotation, else the
// ServiceAccount's, else DefaultTokenExpiration; an empty annotation counts
// as none.
func tokenExpiration(pod *corev1.Pod, sa *corev1.ServiceAccount) (int64, error) {
	value, where := pod.Annotations[wi.TokenExpirationAnnotation], "pod "+podRef(pod)
	if value == "" {
		value, where = sa.Annotations[wi.TokenExpirationAnnotation], fmt.Sprintf("service account %q", sa.Name)
	}
	if value == "" {
		return DefaultTokenExpiration, nil
	}
	fix := fmt.Sprintf("(annotation %s of %s: set it to whole seconds from %d to %d, e.g. \"%d\", or remove it)",
		wi.TokenExpirationAnnotation, where, MinTokenExpiration, MaxTokenExpiration, DefaultTokenExpiration)
	seconds, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w %s", err, fix)
	}
	if seconds < MinTokenExpiration || seconds > MaxTokenExpiration {
		return 0, fmt.Errorf("token expiration %d not valid. Expected value to be between %d and %d %s",
			seconds, MinTokenExpiration, MaxTokenExpiration, fix)
	}
	return seconds, nil
}

// skipContainers is the set of names in wi.SkipContainersAnnotation, split on
// ";" and trimmed.
func skipContainers(pod *corev1.Pod) map[string]bool {
	value := pod.Annotations[wi.SkipContainersAnnotation]
	if value == "" {
		return nil
	}
	skip := map[string]bool{}
	for _, name := range strings.Split(value, ";") {
		skip[strings.TrimSpace(name)] = true
	}
	return skip
}

// volumeName is VolumeNamePrefix and as much of the hex SHA-256 of the pod's
// name as fits 63 characters. A pod with only generateName hashes
// "<generateName> (prefix)", as v1.6 does.
func volumeName(pod *corev1.Pod) string {
	name := pod.Name
	if name == "" {
		name = pod.GenerateName + " (prefix)"
	}
	sum := sha256.Sum256([]byte(name))
	return VolumeNamePrefix + hex.EncodeToString(sum[:])[:63-len(VolumeNamePrefix)]
}

// podRef names a pod in messages, by generateName when it has no name yet.
func podRef(pod *corev1.Pod) string {
	if pod.Name == "" && pod.GenerateName != "" {
		return fmt.Sprintf("%q (generateName)", pod.GenerateName)
	}
	return fmt.Sprintf("%q", pod.Name)
}

func addEnv(c *corev1.Container, env []corev1.EnvVar) {
	for _, e := range env {
		if e.Value == "" || hasEnv(c, e.Name) {
			continue
		}
		c.Env = append(c.Env, e)
	}
}

func hasEnv(c *corev1.Container, name string) bool {
	for _, e := range c.Env {
		if e.Name == name {
			return true
		}
	}
	return false
}

func addMount(c *corev1.Container, volume string) {
	mount := corev1.VolumeMount{Name: volume, MountPath: MountPath, ReadOnly: true}
	for i := range c.VolumeMounts {
		if c.VolumeMounts[i].Name == volume {
			c.VolumeMounts[i] = mount
			return
		}
	}
	c.VolumeMounts = append(c.VolumeMounts, mount)
}

func tokenVolume(name, audience string, expiration int64) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{
		Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{{
			ServiceAccountToken: &corev1.ServiceAccountTokenProjection{
				Audience: audience, ExpirationSeconds: &expiration, Path: TokenPath,
			},
		}}},
	}}
}

func addVolume(pod *corev1.Pod, v corev1.Volume) {
	for i := range pod.Spec.Volumes {
		if pod.Spec.Volumes[i].Name == v.Name {
			pod.Spec.Volumes[i] = v
			return
		}
	}
	pod.Spec.Volumes = append(pod.Spec.Volumes, v)
}
