{{/* podid.name is the chart name, or nameOverride. */}}
{{- define "podid.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
podid.fullname prefixes every object: fullnameOverride, else the release
name when it already contains the chart name, else <release>-<chart>.
*/}}
{{- define "podid.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* podid.labels are on every object. */}}
{{- define "podid.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "podid.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* podid.selectorLabels picks one component's pods; call with (list $ "mic"). */}}
{{- define "podid.selectorLabels" -}}
{{- $ := index . 0 -}}
app.kubernetes.io/name: {{ include "podid.name" $ }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "podid.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{/*
podid.tokenMode is the cluster's default token mode: tokenMode, else the
one operationMode maps to (standard and managed both mean node), else
federated. Combinations that cannot work fail the render with what to set.
*/}}
{{- define "podid.tokenMode" -}}
{{- $v := .Values -}}
{{- $fromOp := "" -}}
{{- if $v.operationMode }}{{ $fromOp = "node" }}{{ end -}}
{{- if and $v.tokenMode $fromOp (ne $v.tokenMode $fromOp) -}}
{{- fail (printf "operationMode %q is aad-pod-identity's node-IMDS design and means tokenMode node, but tokenMode is %q: unset operationMode to use %s, or unset tokenMode" $v.operationMode $v.tokenMode $v.tokenMode) -}}
{{- end -}}
{{- if and (eq $v.operationMode "standard") (not $v.mic.cloud.armEndpoint) -}}
{{- fail "operationMode standard means mic adds identities to VMs and VMSS: set mic.cloud.armEndpoint (e.g. https://management.azure.com/), or use operationMode managed if the identities are already on the VMSS" -}}
{{- end -}}
{{- if and (eq $v.operationMode "managed") $v.mic.cloud.armEndpoint -}}
{{- fail "operationMode managed means mic writes nothing to Azure: unset mic.cloud.armEndpoint, or use operationMode standard" -}}
{{- end -}}
{{- default (default "federated" $fromOp) $v.tokenMode -}}
{{- end }}

{{/* podid.clusterWide is "true" when bindings serve every namespace. */}}
{{- define "podid.clusterWide" -}}
{{- if eq (toString .Values.forceNamespaced) "false" }}true{{ end -}}
{{- end }}

{{/* podid.podSecurityContext is the restricted profile for mic. */}}
{{- define "podid.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{/*
podid.wiWebhook names the workload-identity webhook's objects: its
Deployment, Service, ServiceAccount, RBAC and both webhook configurations.
*/}}
{{- define "podid.wiWebhook" -}}
{{ include "podid.fullname" . }}-wi-webhook
{{- end }}

{{/*
podid.wiWebhookTenant is the tenant the webhook injects: workloadIdentity.tenantID,
else nmi.tenantID; empty means the ConfigMap <fullname>-wi-webhook-tenant.
*/}}
{{- define "podid.wiWebhookTenant" -}}
{{- default .Values.nmi.tenantID .Values.workloadIdentity.tenantID -}}
{{- end }}

{{/*
podid.apiServerEnv points in-cluster clients at apiServer.host instead of
the kubernetes Service's ClusterIP; nothing when the host is empty.
*/}}
{{- define "podid.apiServerEnv" -}}
{{- with .Values.apiServer.host -}}
- name: KUBERNETES_SERVICE_HOST
  value: {{ . | quote }}
- name: KUBERNETES_SERVICE_PORT
  value: {{ $.Values.apiServer.port | toString | quote }}
{{- end }}
{{- end }}
