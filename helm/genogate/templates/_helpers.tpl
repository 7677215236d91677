{{/* Chart name, truncated to the 63 characters Kubernetes allows. */}}
{{- define "genogate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart unless the release name already contains it. */}}
{{- define "genogate.fullname" -}}
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

{{- define "genogate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "genogate.labels" -}}
helm.sh/chart: {{ include "genogate.chart" . }}
{{ include "genogate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: genogate
{{- end }}

{{- define "genogate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "genogate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: gateway
{{- end }}

{{- define "genogate.redisName" -}}
{{- printf "%s-redis" (include "genogate.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "genogate.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ include "genogate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end }}

{{- define "genogate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "genogate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "genogate.queueKeySecret" -}}
{{- default (printf "%s-queue-key" (include "genogate.fullname" .)) .Values.secrets.queueKey.existingSecret }}
{{- end }}

{{- define "genogate.apiKeysSecret" -}}
{{- default (printf "%s-api-keys" (include "genogate.fullname" .)) .Values.auth.apiKeys.existingSecret }}
{{- end }}

{{/* The Redis URL genogate uses. */}}
{{- define "genogate.redisUrl" -}}
{{- if eq .Values.redis.mode "bundled" }}
{{- printf "redis://%s:6379/0" (include "genogate.redisName" .) }}
{{- else if .Values.redis.external.sentinel.masterName }}
{{- printf "redis+sentinel://%s/%s" (join "," .Values.redis.external.sentinel.nodes) .Values.redis.external.sentinel.masterName }}
{{- else }}
{{- .Values.redis.external.url }}
{{- end }}
{{- end }}

{{/* genogate's configuration file, rendered from the values. */}}
{{- define "genogate.config" -}}
{{- $server := dict "listen" (printf "0.0.0.0:%d" (int .Values.service.port)) "data_dir" "/var/lib/genogate" }}
{{- if .Values.tls.enabled }}
{{- $tls := dict "cert_file" "/etc/genogate/tls/tls.crt" "key_file" "/etc/genogate/tls/tls.key" }}
{{- if .Values.tls.clientCA.existingSecret }}
{{- $_ := set $tls "client_ca_file" "/etc/genogate/client-ca/ca.crt" }}
{{- end }}
{{- $_ := set $server "tls" $tls }}
{{- end }}
{{- $redis := dict "url" (include "genogate.redisUrl" .) }}
{{- if and (eq .Values.redis.mode "external") .Values.redis.external.passwordSecret.name }}
{{- $_ := set $redis "password_env" "GENOGATE_REDIS_PASSWORD" }}
{{- end }}
{{- $security := dict "api_keys_file" "/etc/genogate/auth/api-keys.yaml" }}
{{- if .Values.auth.jwt.issuers }}
{{- $issuers := list }}
{{- range .Values.auth.jwt.issuers }}
{{- $issuers = append $issuers (dict "issuer" .issuer "audience" .audience "jwks_url" .jwksUrl) }}
{{- end }}
{{- $_ := set $security "jwt" $issuers }}
{{- end }}
{{- $config := dict "server" $server "redis" $redis "queue" (dict "key_file" (printf "/etc/genogate/secrets/queue/%s" .Values.secrets.queueKey.key)) "security" $security "endpoints" .Values.endpoints }}
{{- if .Values.mllp.enabled }}
{{- $mllp := dict "listen" (printf "0.0.0.0:%d" (int .Values.mllp.port)) }}
{{- if .Values.tls.enabled }}
{{- $_ := set $mllp "tls" (deepCopy (get $server "tls")) }}
{{- end }}
{{- $_ := set $config "mllp" $mllp }}
{{- end }}
{{- $merged := mustMergeOverwrite $config (deepCopy .Values.config) }}
{{- toYaml $merged }}
{{- end }}
