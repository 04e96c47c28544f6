{{ user_data_mart_config() }}

-- depends_on: {{ ref('int_user_data__irf_values') }}

{# IRF_USER_DATA_GEN_1 (MEASURES.md "User data"): see _user_data__models.yml; the
    columns come from the mapping (var user_data_mapping, macros/user_data.sql). #}

{{ user_data_mart('gen') }}
