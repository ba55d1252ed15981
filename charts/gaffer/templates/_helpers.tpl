{{- define "gaffer.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "gaffer.labels" -}}
app.kubernetes.io/name: gaffer
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "gaffer.selectorLabels" -}}
app.kubernetes.io/name: gaffer
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "gaffer.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "gaffer.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}

{{/* The rules the operator needs on namespaced resources: no wildcards. */}}
{{- define "gaffer.namespacedRules" -}}
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, create, delete, patch]
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, watch, create, patch]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [scheduling.k8s.io, scheduling.x-k8s.io, scheduling.volcano.sh]
  resources: [podgroups]
  verbs: [get, create, patch, delete]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [compute.gaffer.dev]
  resources: [computeclusters]
  verbs: [get, list, watch, create, delete]
- apiGroups: [compute.gaffer.dev]
  resources: [computejobs]
  verbs: [get, list, watch, delete]
- apiGroups: [compute.gaffer.dev]
  resources: [computeclusters/status, computejobs/status]
  verbs: [get, update, patch]
- apiGroups: [compute.gaffer.dev]
  resources: [computeclusters/finalizers, computejobs/finalizers]
  verbs: [update]
{{- if .Values.integrations.kueue.enabled }}
# The Kueue integration: the Workloads of queued jobs (created, replaced, their quota released, finished).
- apiGroups: [kueue.x-k8s.io]
  resources: [workloads]
  verbs: [get, list, watch, create, delete]
- apiGroups: [kueue.x-k8s.io]
  resources: [workloads/status]
  verbs: [update]
{{- end }}
{{- end -}}
