#ifndef PATRON_CRABBITMQ_SHIM_H
#define PATRON_CRABBITMQ_SHIM_H

/* rabbitmq-c 0.11 installs its headers at the include root. */
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>

/*
 * Why this file exists: Swift cannot call C variadic functions, and it does not import
 * macros whose value contains a cast. Each wrapper below has exactly one of those reasons.
 */

/* amqp_login_with_properties is variadic; Patron only ever uses SASL PLAIN. */
static inline amqp_rpc_reply_t patron_amqp_login_plain(amqp_connection_state_t state,
                                                       const char *vhost, int channel_max,
                                                       int frame_max, int heartbeat,
                                                       const amqp_table_t *properties,
                                                       const char *user, const char *password) {
    return amqp_login_with_properties(state, vhost, channel_max, frame_max, heartbeat, properties,
                                      AMQP_SASL_METHOD_PLAIN, user, password);
}

/* Method ids are macros with a cast ((amqp_method_number_t)0x...), which Swift skips. */
static const amqp_method_number_t patron_method_basic_deliver = AMQP_BASIC_DELIVER_METHOD;
static const amqp_method_number_t patron_method_basic_ack = AMQP_BASIC_ACK_METHOD;
static const amqp_method_number_t patron_method_basic_nack = AMQP_BASIC_NACK_METHOD;
static const amqp_method_number_t patron_method_basic_return = AMQP_BASIC_RETURN_METHOD;
static const amqp_method_number_t patron_method_basic_cancel = AMQP_BASIC_CANCEL_METHOD;
static const amqp_method_number_t patron_method_channel_close = AMQP_CHANNEL_CLOSE_METHOD;
static const amqp_method_number_t patron_method_channel_close_ok = AMQP_CHANNEL_CLOSE_OK_METHOD;
static const amqp_method_number_t patron_method_connection_close = AMQP_CONNECTION_CLOSE_METHOD;
static const amqp_method_number_t patron_method_connection_close_ok = AMQP_CONNECTION_CLOSE_OK_METHOD;
static const amqp_method_number_t patron_method_connection_blocked = AMQP_CONNECTION_BLOCKED_METHOD;
static const amqp_method_number_t patron_method_connection_unblocked = AMQP_CONNECTION_UNBLOCKED_METHOD;
static const amqp_method_number_t patron_method_basic_get_ok = AMQP_BASIC_GET_OK_METHOD;
static const amqp_method_number_t patron_method_basic_get_empty = AMQP_BASIC_GET_EMPTY_METHOD;

#endif
