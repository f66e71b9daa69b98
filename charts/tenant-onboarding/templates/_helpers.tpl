{{/* Labels of every object. */}}
{{- define "tenant-onboarding.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Name of the RegistrationToken. */}}
{{- define "tenant-onboarding.registrationTokenName" -}}
{{ .Release.Name }}-registration
{{- end }}

{{/* Secret the operator writes the registration token to. */}}
{{- define "tenant-onboarding.registrationTokenSecret" -}}
{{ .Values.registrationToken.secretName | default (printf "%s-registration-token" .Release.Name) }}
{{- end }}
