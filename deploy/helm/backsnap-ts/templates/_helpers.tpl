{{- define "backsnap.fullname" -}}
{{- printf "%s" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "backsnap.labels" -}}
app.kubernetes.io/name: backsnap-ts
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: backsnap
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "backsnap.selector" -}}
app.kubernetes.io/name: backsnap-ts
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "backsnap.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "backsnap.secretName" -}}
{{ .Values.app.existingSecret | default (printf "%s-credentials" (include "backsnap.fullname" .)) }}
{{- end -}}

{{/* A Metacontroller hook pointing at this release's Service. */}}
{{- define "backsnap.hook" -}}
version: v2
webhook:
  service:
    name: {{ include "backsnap.fullname" .root }}
    namespace: {{ .root.Release.Namespace }}
    port: 80
  path: {{ .path }}
  timeout: {{ .timeout }}
  {{- if .root.Values.metacontroller.hookAuthentication }}
  authorization:
    type: Bearer
    secretRef:
      name: {{ include "backsnap.secretName" .root }}
      namespace: {{ .root.Release.Namespace }}
      key: BACKSNAP_HOOK_TOKEN
  {{- end }}
{{- end -}}
