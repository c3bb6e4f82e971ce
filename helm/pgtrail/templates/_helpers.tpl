{{/* Chart name, overridable. */}}
{{- define "pgtrail.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Resource name prefix: release name + chart name, unless one contains the other. */}}
{{- define "pgtrail.fullname" -}}
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

{{/* Cluster-scoped objects carry the release namespace so two installs cannot collide. */}}
{{- define "pgtrail.clusterName" -}}
{{- printf "%s-%s" (include "pgtrail.fullname" .) .Release.Namespace | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "pgtrail.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "pgtrail.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pgtrail.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "pgtrail.labels" -}}
helm.sh/chart: {{ include "pgtrail.chart" . }}
{{ include "pgtrail.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: pgtrail
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "pgtrail.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "pgtrail.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The operator image reference: repository[:tag][@digest]. */}}
{{- define "pgtrail.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s:%s@%s" .Values.image.repository $tag .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* The workers' default image: the operator image unless worker.image says otherwise. */}}
{{- define "pgtrail.workerImage" -}}
{{- if .Values.worker.image.repository }}
{{- printf "%s:%s" .Values.worker.image.repository (default (default .Chart.AppVersion .Values.image.tag) .Values.worker.image.tag) }}
{{- else if .Values.worker.image.tag }}
{{- printf "%s:%s" .Values.image.repository .Values.worker.image.tag }}
{{- else }}
{{- include "pgtrail.image" . }}
{{- end }}
{{- end }}

{{/* The watched namespaces, de-duplicated, in a stable order. */}}
{{- define "pgtrail.watchNamespaces" -}}
{{- .Values.watchNamespaces | uniq | sortAlpha | join "," }}
{{- end }}

{{/*
The worker pod settings as spec.worker JSON for the operator (PGTRAIL_WORKER_POD_DEFAULTS); empty
settings are left out.
*/}}
{{- define "pgtrail.workerPodDefaults" -}}
{{- $w := .Values.worker }}
{{- $d := dict }}
{{- range $key := list "imagePullSecrets" "nodeSelector" "tolerations" "affinity" "priorityClassName" "serviceAccountName" "podAnnotations" "podLabels" }}
{{- $value := get $w $key }}
{{- if $value }}
{{- $_ := set $d $key $value }}
{{- end }}
{{- end }}
{{- toJson $d }}
{{- end }}
